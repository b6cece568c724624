#pragma once
// bf16 Linear forwards through oneDNN with the weight reordered once into the blocked layout its
// AMX kernels read (at::linear reorders it on every call), and a fused epilogue for gated MLPs:
// silu(x W^T + b) * other, computed on the fp32 accumulator, so the activation costs no extra
// passes over the [tokens, intermediate] tensors (on this CPU those passes cost ~20% of an MLP).
//
// The packed copy follows the weight: it is rebuilt when the weight's storage or its version
// counter changes (every in-place write bumps it, also through a view), so hooks that edit weights
// need not tell us. Not for concurrent use: one PackedLinear serves one thread at a time (its
// caches are unsynchronised); copies share the cache.
#include <memory>

#include <ATen/core/Tensor.h>

namespace qf::model {

class PackedLinear {
 public:
  PackedLinear();

  // Whether x/weight qualify: bf16 2-D weight with contiguous rows, bf16 input, oneDNN usable.
  static bool applicable(const at::Tensor& x, const at::Tensor& weight);

  // y [..., out] bf16 = x [..., in] W^T + b; weight [out, in] bf16 (a row view is fine), bias [out]
  // bf16 or undefined. Call only when applicable(x, weight).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) const;

  // silu(x W^T + b) * multiplier, multiplier of the output's shape (bf16).
  at::Tensor forward_silu_mul(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              const at::Tensor& multiplier) const;

 private:
  struct State;
  at::Tensor run(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                 const at::Tensor* multiplier) const;
  std::shared_ptr<State> state_;
};

}  // namespace qf::model
