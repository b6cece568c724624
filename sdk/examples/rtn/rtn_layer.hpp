#pragma once
// Round-to-nearest of one Linear weight, and the tensors each checkpoint format stores for it.
#include <cstdint>
#include <string>
#include <vector>

namespace rtn {

struct Settings {
  int bits = 4;
  int64_t group_size = 128;  // -1: one group per row
  bool sym = false;
  std::string checkpoint_format = "gptq";  // "gptq" (v1, or gptq_v2 when asymmetric) or "awq" (GEMM)
};

struct QuantizedLinear {
  int64_t out = 0, in = 0, group_size = 0, ngroups = 0;
  std::vector<int32_t> codes;      // [out, in]
  std::vector<int32_t> zeros;      // [out, ngroups]
  std::vector<float> scales;       // [out, ngroups], already rounded to fp16
  std::vector<float> dequantized;  // [out, in]
};

// Throws std::invalid_argument naming `tensor_name` (the weight's full name) when the shape does not
// fit the settings, the weight has NaN/Inf values, or a group's range is too wide for fp16 scales.
QuantizedLinear quantize(const float* weight, int64_t out, int64_t in, const Settings& s,
                         const std::string& tensor_name);

}  // namespace rtn
