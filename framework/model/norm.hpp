#pragma once
// RMSNorm and LayerNorm with transformers' numerics (RMSNorm statistics in fp32, then cast back).
#include <string>

#include <ATen/core/Tensor.h>

#include "model/architecture.hpp"

namespace qf::model {

class WeightSource;

struct Norm {
  NormKind kind = NormKind::RMSNorm;
  at::Tensor weight;  // [dim], compute dtype
  at::Tensor bias;    // LayerNorm only; undefined for RMSNorm
  double eps = 1e-6;

  at::Tensor operator()(const at::Tensor& x) const;
  // Loads `<module>.weight` (and `<module>.bias` for LayerNorm) converted to `dtype`.
  static Norm load(const WeightSource& src, const std::string& module, NormKind kind, int64_t dim,
                   double eps, at::ScalarType dtype);
};

// transformers' RMSNorm in bf16, weight * (x * rsqrt(mean(x^2) + eps)).to(bf16) with fp32 statistics,
// in one pass per row: x [..., n] (any strides, last dimension contiguous), weight [n], both bf16.
// Returns a new contiguous tensor. The mean is summed in double, so it may differ from ATen's fp32 sum
// in its last bit; after the rounding to bf16 that moves about one normalised value in 10^4 by one ulp
// (the weighted output, rounded once more, by at most two). (fp32
// keeps ATen's op sequence: there every such bit would show.) Runs on ATen's intra-op threads.
at::Tensor rms_norm_bf16(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace qf::model
