#pragma once
// Fused causal attention for bf16 on AVX512-BF16 CPUs: one pass per block of query rows computes the
// scores against packed keys, the softmax and the product with packed values, with only a few rows of
// scores alive at a time (never the [T, T] matrix), GQA heads sharing one packed K/V. The arithmetic
// follows the eager bf16 attention of transformers: scores rounded to bf16 after scaling, softmax in
// fp32 rounded to bf16, P.V accumulated in fp32 and rounded once.
#include <ATen/core/Tensor.h>

namespace qf::model {

// Whether fused_causal_attention_bf16 runs here: a CPU with AVX512-BF16 and a head size that is a
// multiple of 32. QUANTFORGE_FUSED_ATTENTION=0 turns it off (the blocked ATen path then runs).
bool fused_attention_available(int64_t head_dim);

// q: [B, H, T, D], k, v: [B, KV, T, D], bf16, any strides with the last dimension contiguous.
// Returns [B, T, H*D] bf16.
at::Tensor fused_causal_attention_bf16(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

}  // namespace qf::model
