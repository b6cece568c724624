// Scalar quantization formulas shared by the methods (header-only, no dependencies beyond the SDK):
// the one copy of each rule; the GPTQ plugin and the RTN example use these.
// gptq_*: the GPTQ reference Quantizer (docs/gptq.md#quantizer), also used for plain RTN.
// awq_*:  AutoAWQ's pseudo_quantize_tensor with zero point (docs/awq.md#pseudo-quantization).
// require_*: input checks every method should run before quantizing a weight.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "quantforge/half.hpp"

namespace qf::quant {

struct GroupParams {
  float scale = 1.0f;
  int32_t zero = 0;
};

inline int32_t max_code(int bits) { return (1 << bits) - 1; }

// Round half to even, as torch.round does.
inline float round_half_even(float x) { return std::nearbyint(x); }

// fp16 rounding lives in half.hpp; these names are part of this header's API.
using qf::sdk::kHalfMax;
using qf::sdk::round_scale_to_half;
using qf::sdk::round_to_half;

// GPTQ find_params from the raw minimum and maximum of a group (docs/gptq.md#quantizer; IST-DASLab gptq quant.py, Quantizer.find_params): the
// range is widened to contain 0; symmetric: xmax = max(|xmin|, xmax) and xmin = -xmax only if
// xmin < 0, zero = (maxq + 1) / 2; an all-zero range becomes [-1, 1]; scale = (xmax - xmin) / maxq
// in fp32; asymmetric zero = round_half_even(-xmin / scale).
inline GroupParams gptq_params_from_range(float vmin, float vmax, int bits, bool sym) {
  const int32_t maxq = max_code(bits);
  float xmin = std::min(vmin, 0.0f);
  float xmax = std::max(vmax, 0.0f);
  if (sym) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
  GroupParams p;
  p.scale = (xmax - xmin) / static_cast<float>(maxq);
  p.zero = sym ? (maxq + 1) / 2 : static_cast<int32_t>(round_half_even(-xmin / p.scale));
  return p;
}

// GPTQ find_params over one group x[0..n).
inline GroupParams gptq_find_params(const float* x, int64_t n, int bits, bool sym) {
  float xmin = 0.0f, xmax = 0.0f;
  for (int64_t j = 0; j < n; ++j) {
    xmin = std::min(xmin, x[j]);
    xmax = std::max(xmax, x[j]);
  }
  return gptq_params_from_range(xmin, xmax, bits, sym);
}

// AutoAWQ zero-point quantizer over one group: signed min/max (not widened to 0), scale clamped.
inline GroupParams awq_find_params(const float* x, int64_t n, int bits) {
  const int32_t maxq = max_code(bits);
  float xmin = x[0], xmax = x[0];
  for (int64_t j = 1; j < n; ++j) {
    xmin = std::min(xmin, x[j]);
    xmax = std::max(xmax, x[j]);
  }
  GroupParams p;
  p.scale = std::max(xmax - xmin, 1e-5f) / static_cast<float>(maxq);
  const float z = -round_half_even(xmin / p.scale);
  p.zero = static_cast<int32_t>(std::clamp(z, 0.0f, static_cast<float>(maxq)));
  return p;
}

// Integer code: clamp(round_half_even(x / scale) + zero, 0, maxq) (GPTQ quant.py L6-10, AutoAWQ).
// `zero` is an integer-valued float, as the references keep it.
inline int32_t quantize_to_code(float x, float scale, float zero, int32_t maxq) {
  const float q = round_half_even(x / scale) + zero;
  return static_cast<int32_t>(std::clamp(q, 0.0f, static_cast<float>(maxq)));
}

inline int32_t quantize_code(float x, const GroupParams& p, int bits) {
  return quantize_to_code(x, p.scale, static_cast<float>(p.zero), max_code(bits));
}

// scale * (q - zero) in fp32, what a loader computes (q - zero is exact in float).
inline float dequantize_value(int32_t q, float scale, float zero) { return scale * (static_cast<float>(q) - zero); }

inline float dequantize_code(int32_t q, const GroupParams& p) {
  return dequantize_value(q, p.scale, static_cast<float>(p.zero));
}

// A position in a row-major [rows, cols] weight.
struct WeightPosition {
  int64_t row = -1, column = -1;
};

// How many NaN/Inf values a row-major [rows, cols] weight holds, and where the first one is.
struct NonFiniteCount {
  int64_t count = 0;
  WeightPosition first;
};

inline NonFiniteCount count_non_finite(const float* w, int64_t rows, int64_t cols) {
  NonFiniteCount n;
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (std::isfinite(w[i])) continue;
    if (n.count++ == 0) n.first = WeightPosition{i / cols, i % cols};
  }
  return n;
}

// Throws std::invalid_argument naming the tensor when the weight holds NaN or Inf. Without the
// check a NaN quietly becomes a finite code and an Inf an infinite scale: the output loads, then
// every perplexity is NaN.
inline void require_finite_weight(const float* w, int64_t rows, int64_t cols, const std::string& tensor_name) {
  const NonFiniteCount n = count_non_finite(w, rows, cols);
  if (n.count == 0) return;
  throw std::invalid_argument(tensor_name + ": the weight has " + std::to_string(n.count) + " NaN or Inf value" +
                              (n.count == 1 ? "" : "s") + " (first at row " + std::to_string(n.first.row) +
                              ", column " + std::to_string(n.first.column) +
                              "); the checkpoint is damaged: re-export it from a healthy copy");
}

// Throws std::invalid_argument naming the tensor when a group scale, rounded to fp16 as the
// checkpoint stores it (round_to_half), is not a finite fp16 number: the weight's values are too
// large for fp16 scales. The message gives the largest |w| of the tensor and where it is.
inline void require_fp16_scale(float rounded_scale, const float* w, int64_t rows, int64_t cols,
                               const std::string& tensor_name) {
  if (std::isfinite(rounded_scale) && std::fabs(rounded_scale) <= kHalfMax) return;
  float max_abs = 0.0f;
  WeightPosition at;
  for (int64_t i = 0; i < rows * cols; ++i)
    if (std::fabs(w[i]) > max_abs) {
      max_abs = std::fabs(w[i]);
      at = WeightPosition{i / cols, i % cols};
    }
  char text[160];
  std::snprintf(text, sizeof text, "max |w| is %.6g (row %lld, column %lld)", static_cast<double>(max_abs),
                static_cast<long long>(at.row), static_cast<long long>(at.column));
  throw std::invalid_argument(tensor_name + ": " + text + ", so a group scale exceeds 65504, the largest fp16 " +
                              "value: fp16 scales cannot hold it; the checkpoint is damaged or not meant for " +
                              "this format");
}

}  // namespace qf::quant
