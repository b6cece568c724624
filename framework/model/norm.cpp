#include "model/norm.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "model/weight_source.hpp"

namespace qf::model {

at::Tensor Norm::operator()(const at::Tensor& x) const {
  if (kind == NormKind::LayerNorm) {
    if (x.scalar_type() == at::kFloat) return at::layer_norm(x, {x.size(-1)}, weight, bias, eps);
    // Reduced precision: normalise in fp32 for stable statistics, round once at the end.
    return at::layer_norm(x.to(at::kFloat), {x.size(-1)}, weight.to(at::kFloat), bias.to(at::kFloat), eps)
        .to(x.scalar_type());
  }
  // transformers LlamaRMSNorm: fp32 statistics, cast back, then scale by the weight.
  if (x.scalar_type() == at::kBFloat16 && weight.scalar_type() == at::kBFloat16 && x.stride(-1) == 1)
    return rms_norm_bf16(x, weight, eps);
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

Norm Norm::load(const WeightSource& src, const std::string& module, NormKind kind, int64_t dim, double eps,
                at::ScalarType dtype) {
  Norm n;
  n.kind = kind;
  n.eps = eps;
  n.weight = owned_copy(src, module + ".weight", dtype, {dim});
  if (kind == NormKind::LayerNorm) n.bias = owned_copy(src, module + ".bias", dtype, {dim});
  return n;
}

}  // namespace qf::model
