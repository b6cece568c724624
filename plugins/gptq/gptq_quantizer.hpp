// GPTQ's Quantizer (docs/gptq.md#quantizer): per-row min/max grid, symmetric or asymmetric, round half to even.
// Internal C++ API of the gptq plugin, on ATen tensors; the scalar kernels are inline so the solver's
// hot loop and the tensor-level helpers share the very same arithmetic.
#pragma once

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "quantforge/quantizer.hpp"

namespace qf::gptq {

struct QuantizerConfig {
  int bits = 8;
  bool sym = true;
  // Round every scale to the nearest fp16 before quantizing (what the checkpoint's fp16 `scales`
  // hold), so the dequantized weight equals what a loader reconstructs. The references keep fp32
  // scales here (and lose the difference at save time); the golden tests use false.
  bool fp16_scales = false;
  int32_t maxq() const { return (1 << bits) - 1; }
};

// Scale and zero point of one row of one group. `zero` is an integer-valued float, as in the
// references (they keep it as an fp32 tensor).
struct ScaleZero {
  float scale = 1.0f;
  float zero = 0.0f;
};

// find_params from the raw minimum and maximum of the group's values: the SDK's GPTQ rule
// (qf::quant::gptq_params_from_range, docs/gptq.md#quantizer), with the zero as a float and, with fp16_scales,
// the scale rounded to what fp16 holds (never 0).
inline ScaleZero params_from_range(float vmin, float vmax, const QuantizerConfig& cfg) {
  const qf::quant::GroupParams g = qf::quant::gptq_params_from_range(vmin, vmax, cfg.bits, cfg.sym);
  ScaleZero p{g.scale, static_cast<float>(g.zero)};
  if (cfg.fp16_scales) p.scale = qf::quant::round_scale_to_half(p.scale);
  return p;
}

// Integer code: clamp(round_half_even(x / s) + z, 0, maxq) (qf::quant::quantize_to_code).
inline int32_t quantize_code(float x, const ScaleZero& p, int32_t maxq) {
  return qf::quant::quantize_to_code(x, p.scale, p.zero, maxq);
}

// s * (q - z), in fp32 exactly as the reference's quantize() computes it.
inline float dequantize_code(int32_t q, const ScaleZero& p) { return qf::quant::dequantize_value(q, p.scale, p.zero); }

// Per-row parameters over x [rows, k] (any float dtype): {scale fp32 [rows], zero fp32 [rows]}.
std::pair<at::Tensor, at::Tensor> find_params(const at::Tensor& x, const QuantizerConfig& cfg);

// Round to nearest of x [rows, k] with per-row (scale, zero) [rows] or per-element [rows, k]
// broadcastable params: int32 codes.
at::Tensor quantize_codes(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero,
                          const QuantizerConfig& cfg);

// Dequantizes codes [rows, cols] (int32) with per-group params [rows, ngroups] and g_idx [cols]:
// scale[r, g_idx[c]] * (codes[r, c] - zero[r, g_idx[c]]), fp32 — what a GPTQ loader computes.
at::Tensor dequantize(const at::Tensor& codes, const at::Tensor& scales, const at::Tensor& zeros,
                      const at::Tensor& g_idx);

}  // namespace qf::gptq
