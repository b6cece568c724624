// What a compressed-tensors checkpoint of the method's output will hold, decided from tensor shapes,
// g_idx and the method's quantization_config before anything is written; every refusal happens
// here, naming the tensor and what to change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quantforge/quantized_linears.hpp"
#include "quantforge/tensor_spool.hpp"

namespace qf::ct {

struct Plan {
  sdk::grid::Scheme scheme;
  std::vector<std::string> linears;  // quantized Linear prefixes, in arrival order
  int64_t group_size = 0;            // input channels per group; -1: strategy "channel" (one group a row)
  bool act_order = false;            // some g_idx is not i / group_size: actorder "group", weight_g_idx
  std::vector<std::string> ignore;   // Linears left in floating point (always "lm_head"), sorted
};

Plan plan_checkpoint(const sdk::TensorSpool& spool, const sdk::grid::Scheme& scheme);

// The config.json of the model names its dtype ("torch_dtype", or "dtype" in transformers 5):
// F16, BF16 or F32; std::nullopt when it names none or another.
std::optional<sdk::st::DType> model_float_dtype(const std::string& config_json_text);

}  // namespace qf::ct
