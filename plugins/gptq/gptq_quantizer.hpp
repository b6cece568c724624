// GPTQ's Quantizer (docs/gptq.md#quantizer): per-row min/max grid, symmetric or asymmetric, round half to even.
// Internal C++ API of the gptq plugin, on ATen tensors; the scalar kernels are inline so the solver's
// hot loop and the tensor-level helpers share the very same arithmetic.
#pragma once

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

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

// Rounds to the nearest IEEE half (round half to even) and back; 0 becomes the smallest subnormal.
float round_scale_to_half(float x);

// find_params (IST-DASLab/gptq quant.py, Quantizer.find_params; docs/gptq.md#quantizer) from the raw
// minimum and maximum of the group's values:
// the range is widened to contain 0; sym: xmax = max(|xmin|, xmax), xmin = -xmax only if xmin < 0
// (quirk Q4); an all-zero range becomes [-1, 1]; scale = (xmax - xmin) / maxq in fp32;
// zero = (maxq + 1) / 2 (sym) or round_half_even(-xmin / scale).
inline ScaleZero params_from_range(float vmin, float vmax, const QuantizerConfig& cfg) {
  const float maxq = static_cast<float>(cfg.maxq());
  float xmin = std::min(vmin, 0.0f);
  float xmax = std::max(vmax, 0.0f);
  if (cfg.sym) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0.0f) xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
  ScaleZero p;
  p.scale = (xmax - xmin) / maxq;
  p.zero = cfg.sym ? (maxq + 1.0f) / 2.0f : std::nearbyint(-xmin / p.scale);
  if (cfg.fp16_scales) p.scale = round_scale_to_half(p.scale);
  return p;
}

// Integer code: clamp(round_half_even(x / s) + z, 0, maxq) (quant.py L6-10).
inline int32_t quantize_code(float x, const ScaleZero& p, int32_t maxq) {
  const float q = std::nearbyint(x / p.scale) + p.zero;
  return static_cast<int32_t>(std::min(std::max(q, 0.0f), static_cast<float>(maxq)));
}

// s * (q - z), in fp32 exactly as the reference's quantize() computes it.
inline float dequantize_code(int32_t q, const ScaleZero& p) { return p.scale * (static_cast<float>(q) - p.zero); }

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
