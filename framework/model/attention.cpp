#include "model/attention.hpp"

#include <limits>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

namespace qf::model {
namespace {

// Rows of the batch per chunk so the [chunk, H, T, T] scores stay around 256 MiB in fp32.
int64_t batch_chunk(int64_t batch, int64_t heads, int64_t t) {
  const int64_t per_row = heads * t * t;
  const int64_t budget = int64_t{64} << 20;
  return std::max<int64_t>(1, std::min(batch, budget / std::max<int64_t>(per_row, 1)));
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                  const at::Tensor& mask, bool fp32_scores) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1);
  const int64_t g = h / kv;
  const auto dtype = q.scalar_type();
  // Heads h = j*g + i share kv head j (transformers repeat_kv), so fold the g query heads of a kv
  // head into the row dimension: one batched matmul per kv head and no copy of K or V.
  at::Tensor qg = q.reshape({b, kv, g * t, d});
  at::Tensor kt = k.transpose(-1, -2);
  at::Tensor vv = v;
  if (fp32_scores && dtype != at::kFloat) {
    qg = qg.to(at::kFloat);
    kt = kt.to(at::kFloat);
    vv = v.to(at::kFloat);
  }
  at::Tensor scores = at::matmul(qg, kt).view({b, kv, g, t, t});
  scores.mul_(scale).add_(mask);
  at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(vv.scalar_type());
  at::Tensor out = at::matmul(probs.view({b, kv, g * t, t}), vv);  // [B, KV, g*T, D]
  return out.view({b, h, t, d}).transpose(1, 2).reshape({b, t, h * d}).to(dtype);
}

}  // namespace

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                            bool fp32_scores) {
  const int64_t b = q.size(0), h = q.size(1), t = q.size(2);
  const bool f32 = fp32_scores || q.scalar_type() == at::kFloat;
  const auto score_dtype = f32 ? at::kFloat : q.scalar_type();
  // Additive mask: -inf strictly above the diagonal (token i sees tokens 0..i).
  at::Tensor mask = at::full({t, t}, -std::numeric_limits<float>::infinity(), at::TensorOptions().dtype(score_dtype))
                        .triu_(1);
  const int64_t chunk = batch_chunk(b, h, t);
  if (chunk >= b) return attend(q, k, v, scale, mask, f32);
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < b; i += chunk) {
    const int64_t n = std::min(chunk, b - i);
    parts.push_back(attend(q.narrow(0, i, n), k.narrow(0, i, n), v.narrow(0, i, n), scale, mask, f32));
  }
  return at::cat(parts, 0);
}

}  // namespace qf::model
