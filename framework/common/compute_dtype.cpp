#include "common/compute_dtype.hpp"

namespace qf {

std::optional<ComputeDtype> parse_compute_dtype(const std::string& name) {
  if (name == "auto") return ComputeDtype::Auto;
  if (name == "fp32" || name == "float32") return ComputeDtype::Fp32;
  if (name == "bf16" || name == "bfloat16") return ComputeDtype::Bf16;
  return std::nullopt;
}

}  // namespace qf
