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

}  // namespace qf::model
