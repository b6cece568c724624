#pragma once
// Fused causal attention on AVX-512 CPUs: one pass per block of query rows computes the scores against
// packed keys, the softmax and the product with the values, with only a few rows of scores alive at a
// time (never the [T, T] matrix), GQA heads sharing one packed K/V. bf16 (needs AVX512-BF16) follows the
// eager bf16 attention of transformers: scores rounded to bf16 after scaling, softmax in fp32 rounded
// to bf16, P.V accumulated in fp32 and rounded once. fp32 computes everything in fp32 with FMAs.
#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

namespace qf::model {

// Whether fused_causal_attention runs here for `dtype` (bf16 or fp32) and the head size (32, 64, 96 or
// 128): AVX-512 (F, BW, VL; for bf16 also BF16). QUANTFORGE_FUSED_ATTENTION=0 turns it off (the blocked
// ATen path then runs).
bool fused_attention_available(at::ScalarType dtype, int64_t head_dim);

// q: [B, H, T, D], k, v: [B, KV, T, D], one dtype for which fused_attention_available holds, any
// strides with the last dimension contiguous. Returns [B, T, H*D] in that dtype. Thread-safe; runs on
// ATen's intra-op threads.
at::Tensor fused_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

}  // namespace qf::model
