// config.json's quantization_config for a compressed-tensors "pack-quantized" checkpoint, in the
// keys compressed-tensors 0.12 writes for one W4A16 / W8A16 config group (docs/formats.md#compressed-tensors).
#pragma once

#include <string>

#include "ct_plan.hpp"

namespace qf::ct {

// The compressed-tensors release whose config schema the output follows ("version" key).
inline constexpr const char* kFormatVersion = "0.12.2";

// The JSON object (compact) for plan's grid.
std::string quantization_config_json(const Plan& plan);

}  // namespace qf::ct
