#include "rtn_layer.hpp"

#include <stdexcept>

#include "quantforge/quantizer.hpp"

namespace rtn {

QuantizedLinear quantize(const float* weight, int64_t out, int64_t in, const Settings& s,
                         const std::string& tensor_name) {
  const bool awq = s.checkpoint_format == "awq";
  QuantizedLinear q;
  q.out = out;
  q.in = in;
  q.group_size = s.group_size == -1 ? in : s.group_size;
  if (q.group_size <= 0) throw std::invalid_argument("group_size must be positive or -1");
  if (awq && in % q.group_size != 0)
    throw std::invalid_argument(tensor_name + ": in_features " + std::to_string(in) +
                                " is not divisible by group_size " + std::to_string(q.group_size) +
                                " (AWQ GEMM needs whole groups)");
  q.ngroups = (in + q.group_size - 1) / q.group_size;  // GPTQ allows a ragged last group
  qf::quant::require_finite_weight(weight, out, in, tensor_name);
  q.codes.resize(static_cast<size_t>(out * in));
  q.dequantized.resize(static_cast<size_t>(out * in));
  q.zeros.resize(static_cast<size_t>(out * q.ngroups));
  q.scales.resize(static_cast<size_t>(out * q.ngroups));
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t g = 0; g < q.ngroups; ++g) {
      const int64_t begin = g * q.group_size;
      const int64_t n = std::min(q.group_size, in - begin);
      const float* x = weight + o * in + begin;
      qf::quant::GroupParams p = awq ? qf::quant::awq_find_params(x, n, s.bits)
                                     : qf::quant::gptq_find_params(x, n, s.bits, s.sym);
      // The checkpoint stores fp16 scales: quantize with exactly that scale so the file dequantizes
      // to the very weights we hand to the next layer.
      p.scale = qf::quant::round_to_half(p.scale);
      qf::quant::require_fp16_scale(p.scale, weight, out, in, tensor_name);
      if (p.scale == 0.0f) p.scale = 5.9604645e-08f;  // smallest fp16 subnormal
      q.scales[o * q.ngroups + g] = p.scale;
      q.zeros[o * q.ngroups + g] = p.zero;
      for (int64_t j = 0; j < n; ++j) {
        const int32_t code = qf::quant::quantize_code(x[j], p, s.bits);
        q.codes[o * in + begin + j] = code;
        q.dequantized[o * in + begin + j] = qf::quant::dequantize_code(code, p);
      }
    }
  }
  return q;
}

}  // namespace rtn
