#include "model/attention.hpp"

#include "model/attention_fused.hpp"

#include <limits>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

namespace qf::model {
namespace {

// Query rows per block. Causality means block [i0, i1) needs keys [0, i1) only, so blocking skips
// ~40% of the score matmuls and, more importantly on this CPU, of the softmax work (elementwise
// kernels cost more than the AMX matmuls here).
constexpr int64_t kBlock = 128;

}  // namespace

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            bool fp32_scores) {
  const bool same_dtype = k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type();
  // bf16 with fp32 scores asks for more than the fused bf16 kernel keeps; it stays blocked.
  if (same_dtype && !(fp32_scores && q.scalar_type() == at::kBFloat16) &&
      fused_attention_available(q.scalar_type(), q.size(3)) && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1)
    return fused_causal_attention(q, k, v, scale);
  return blocked_causal_attention(q, k, v, scale, fp32_scores);
}

at::Tensor blocked_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                    bool fp32_scores) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1);
  const int64_t g = h / kv;
  const auto dtype = q.scalar_type();
  const auto sdt = (fp32_scores || dtype == at::kFloat) ? at::kFloat : dtype;
  // Heads j*g .. j*g+g-1 share kv head j (transformers repeat_kv): fold them into the row dimension
  // so each kv head is one batched matmul and K/V are never repeated.
  at::Tensor q5 = q.to(sdt).reshape({b, kv, g, t, d});
  at::Tensor kc = k.to(sdt).contiguous().view({b * kv, t, d});
  at::Tensor vc = v.to(sdt).contiguous().view({b * kv, t, d});
  at::Tensor out = at::empty({b, kv, g, t, d}, q5.options());
  at::Tensor upper = at::ones({kBlock, kBlock}, at::kBool).triu_(1);  // key > query within a diagonal block
  for (int64_t i0 = 0; i0 < t; i0 += kBlock) {
    const int64_t n = std::min(kBlock, t - i0), len = i0 + n;
    at::Tensor qb = q5.narrow(3, i0, n).reshape({b * kv, g * n, d});
    at::Tensor kb = kc.narrow(1, 0, len), vb = vc.narrow(1, 0, len);
    // scale folded into the matmul (alpha) instead of a pass over the scores. Zeroed first: for small
    // products ATen's baddbmm kernel reads the output even with beta = 0, and 0 * NaN from
    // uninitialised memory is NaN.
    at::Tensor scores = at::zeros({b * kv, g * n, len}, q5.options());
    at::baddbmm_out(scores, scores, qb, kb.transpose(1, 2), /*beta=*/0, /*alpha=*/scale);
    // Only the diagonal block has future keys: mask it in place.
    scores.view({b * kv, g, n, len})
        .narrow(3, i0, n)
        .masked_fill_(upper.narrow(0, 0, n).narrow(1, 0, n), -std::numeric_limits<double>::infinity());
    // Reduced-precision softmax accumulates in fp32 inside the kernel, then rounds once, as
    // transformers' softmax(dtype=float32).to(bf16) does.
    at::_softmax_out(scores, scores, -1, false);
    out.narrow(3, i0, n).view({b * kv, g, n, d}).copy_(at::bmm(scores, vb).view({b * kv, g, n, d}));
  }
  // [B, KV, g, T, D] -> [B, T, H*D]
  return out.permute({0, 3, 1, 2, 4}).reshape({b, t, h * d}).to(dtype);
}

}  // namespace qf::model
