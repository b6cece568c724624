#pragma once
// Causal self-attention core: softmax(Q.K^T * scale + causal mask) . V with grouped KV heads.
// No KV cache: every row of the batch is one independent sequence at positions 0..T-1.
#include <ATen/core/Tensor.h>

namespace qf::model {

// q: [B, H, T, D]; k, v: [B, KV, T, D] with H % KV == 0. Returns [B, T, H*D] in q's dtype.
// Scores and softmax are fp32 when q is fp32 or `fp32_scores` is set; else in q's dtype with an
// fp32 softmax (as transformers' eager attention does). bf16 runs fused in one pass where the CPU
// allows (attention_fused.hpp), else as blocked ATen operations.
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            bool fp32_scores);

// The same with ATen operations, blocks of 128 query rows against the keys they can see.
at::Tensor blocked_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                    bool fp32_scores);

}  // namespace qf::model
