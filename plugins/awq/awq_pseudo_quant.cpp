// Pseudo-quantization (docs/awq.md#pseudo-quantization): AutoAWQ's pseudo_quantize_tensor, in fp32 for the search and
// with exact fp16 emulation for the final weights.
#include <cmath>
#include <stdexcept>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include <algorithm>

#include "awq_core.hpp"
#include "quantforge/quantizer.hpp"

namespace qf::awq {

namespace {

// Rounds every element to the nearest fp16 (half-to-even, overflow to inf) and back to fp32: one
// CUDA fp16 elementwise op = fp32 math + this rounding.
at::Tensor r16(const at::Tensor& t) { return t.to(at::kHalf).to(at::kFloat); }

void check_input(const at::Tensor& w, const QuantConfig& cfg, const char* who) {
  if (w.dim() != 2) throw std::invalid_argument(std::string(who) + ": weight must be 2-D [out, in]");
  if (cfg.w_bit < 1 || cfg.w_bit > 8) throw std::invalid_argument("w_bit must be in [1, 8]");
  if (cfg.group_size <= 0 || w.size(1) % cfg.group_size != 0)
    throw std::invalid_argument(std::string(who) + ": in_features " + std::to_string(w.size(1)) +
                                " is not a multiple of the group size " + std::to_string(cfg.group_size));
}

}  // namespace

void check_group_divisible(int64_t in_features, int64_t group_size, const std::string& name) {
  if (group_size <= 0) throw std::invalid_argument("q_group_size must be positive, got " + std::to_string(group_size));
  if (in_features % group_size != 0)
    throw std::invalid_argument(name + ": in_features " + std::to_string(in_features) +
                                " is not divisible by q_group_size " + std::to_string(group_size) +
                                " (AWQ GEMM needs whole groups)");
}

at::Tensor pseudo_quantize_fp32(const at::Tensor& w, const QuantConfig& cfg) {
  check_input(w, cfg, "pseudo_quantize");
  const at::Tensor wg = w.to(at::kFloat).reshape({-1, cfg.group_size}).contiguous();
  at::Tensor dq;
  if (cfg.zero_point) {
    // The SDK's AutoAWQ rule (qf::quant::awq_find_params, quantize_code, dequantize_code), the one
    // copy the RTN example uses too; each group is independent.
    dq = at::empty_like(wg);
    const float* pw = wg.data_ptr<float>();
    float* pd = dq.data_ptr<float>();
    const int64_t gs = cfg.group_size;
    at::parallel_for(0, wg.size(0), std::max<int64_t>(1, 32768 / gs), [&](int64_t begin, int64_t end) {
      for (int64_t g = begin; g < end; ++g) {
        const float* x = pw + g * gs;
        const qf::quant::GroupParams p = qf::quant::awq_find_params(x, gs, cfg.w_bit);
        for (int64_t j = 0; j < gs; ++j)
          pd[g * gs + j] = qf::quant::dequantize_code(qf::quant::quantize_code(x[j], p, cfg.w_bit), p);
      }
    });
  } else {
    const double max_int = std::pow(2.0, cfg.w_bit - 1) - 1.0;
    const double min_int = -std::pow(2.0, cfg.w_bit - 1);
    const at::Tensor scales = wg.abs().amax({1}, true).clamp_min(1e-5) / max_int;
    dq = at::round(wg / scales).clamp_(min_int, max_int).mul_(scales);
  }
  return dq.reshape(w.sizes());
}

QuantizedWeight pseudo_quantize_fp16(const at::Tensor& w, const QuantConfig& cfg, const std::string& name) {
  check_group_divisible(w.size(1), cfg.group_size, name);
  check_input(w, cfg, name.c_str());
  if (!cfg.zero_point) throw std::invalid_argument(name + ": the AWQ GEMM format needs zero_point = true");
  const at::Tensor w16 = r16(w.to(at::kFloat));
  if (at::isnan(w16).any().item<bool>()) throw std::invalid_argument(name + ": weight contains NaN");
  const at::Tensor wg = w16.reshape({-1, cfg.group_size});
  const double max_int = qf::quant::max_code(cfg.w_bit);  // the SDK's maxq
  const at::Tensor maxv = wg.amax({1}, true);
  const at::Tensor minv = wg.amin({1}, true);
  // clamp(min=1e-5) on an fp16 tensor compares with fp16(1e-5) and stores fp16.
  const at::Tensor range = r16(r16(maxv - minv).clamp_min(1e-5));
  const at::Tensor scales = r16(range / max_int);
  const at::Tensor zeros = (-at::round(r16(minv / scales))).clamp_(0.0, max_int);
  const at::Tensor q = r16(at::round(r16(wg / scales)) + zeros).clamp_(0.0, max_int);
  const at::Tensor dq = r16(r16(q - zeros) * scales);

  const int64_t out = w.size(0), ngroups = w.size(1) / cfg.group_size;
  QuantizedWeight r;
  r.w_dq = dq.reshape(w.sizes()).contiguous();
  r.scales = scales.reshape({out, ngroups}).contiguous();
  r.zeros = zeros.reshape({out, ngroups}).to(at::kInt).contiguous();
  r.codes = q.reshape(w.sizes()).to(at::kInt).contiguous();
  return r;
}

}  // namespace qf::awq
