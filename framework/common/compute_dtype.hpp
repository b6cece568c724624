#pragma once
// The names of the layer-forward compute dtype, as recipes (`compute_dtype`) and
// `quantforge eval --dtype` spell them: one table for every parser. No LibTorch here (the recipe
// layer uses it); model/compute.hpp maps the result to an at::ScalarType.
#include <optional>
#include <string>

namespace qf {

enum class ComputeDtype { Auto, Fp32, Bf16 };

// "auto", "fp32" or "float32", "bf16" or "bfloat16"; nullopt for anything else (the caller says
// which names its context accepts).
std::optional<ComputeDtype> parse_compute_dtype(const std::string& name);

}  // namespace qf
