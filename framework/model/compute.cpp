#include "model/compute.hpp"

#include <fstream>
#include <sstream>

#include "common/compute_dtype.hpp"
#include "common/error.hpp"

namespace qf::model {

bool cpu_has_fast_bf16() {
  static const bool fast = [] {
    std::ifstream in("/proc/cpuinfo");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string flags = ss.str();
    return flags.find(" amx_bf16") != std::string::npos || flags.find(" avx512_bf16") != std::string::npos;
  }();
  return fast;
}

AutoDtype choose_compute_dtype(const std::string& requested, const std::string& checkpoint_dtype) {
  if (!requested.empty() && qf::parse_compute_dtype(requested) != ComputeDtype::Auto)
    return {parse_compute_dtype(requested), "set by the recipe"};
  const bool half_checkpoint = checkpoint_dtype == "bfloat16" || checkpoint_dtype == "float16";
  if (!half_checkpoint) return {at::kFloat, "auto: the checkpoint is not 16-bit"};
  if (!cpu_has_fast_bf16()) return {at::kFloat, "auto: this CPU has no AMX/AVX512 bf16 matmul"};
  return {at::kBFloat16, "auto: 16-bit checkpoint and an AMX/AVX512-bf16 CPU (about 4x the fp32 matmul rate)"};
}

at::ScalarType parse_compute_dtype(const std::string& name) {
  const std::optional<ComputeDtype> d = qf::parse_compute_dtype(name);
  if (d == ComputeDtype::Fp32) return at::kFloat;
  if (d == ComputeDtype::Bf16) return at::kBFloat16;
  throw Error("compute dtype '" + name + "' is not supported (supported: fp32, bf16)");
}

}  // namespace qf::model
