#include "model/compute.hpp"

#include "common/error.hpp"

namespace qf::model {

at::ScalarType parse_compute_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  throw Error("compute dtype '" + name + "' is not supported (supported: fp32, bf16)");
}

}  // namespace qf::model
