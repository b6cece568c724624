#pragma once
// A deliberately naive decoder layer (unfused linears, K/V repeated per head, explicit per-head
// softmax) written straight from the transformers modeling code. The runtime must match it.
#include <cmath>

#include "model/rope.hpp"
#include "tiny_model.hpp"

namespace qf::test {

inline at::Tensor ref_rotate(const at::Tensor& x, const model::ModelConfig& c) {
  const int64_t t = x.size(2), rot = c.rotary_dim();
  at::Tensor inv = model::rope_inv_freq(c, t).to(at::kDouble);
  at::Tensor ang = at::arange(t, at::kDouble).unsqueeze(1) * inv.unsqueeze(0);
  at::Tensor cos = at::cat({ang, ang}, -1).cos().to(x.scalar_type());
  at::Tensor sin = at::cat({ang, ang}, -1).sin().to(x.scalar_type());
  at::Tensor xr = x.narrow(-1, 0, rot);
  at::Tensor rh = at::cat({-xr.narrow(-1, rot / 2, rot / 2), xr.narrow(-1, 0, rot / 2)}, -1);
  return at::cat({xr * cos + rh * sin, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

inline at::Tensor ref_layer(const model::ModelConfig& c, const model::WeightSource& w, int64_t layer,
                            const at::Tensor& hidden) {
  const auto& a = model::find_architecture(c.model_type);
  const std::string p = a.layer_prefix + std::to_string(layer) + ".";
  auto W = [&](const std::string& n) { return w.borrow(p + n + ".weight").to(at::kDouble); };
  auto B = [&](const std::string& n) {
    return w.contains(p + n + ".bias") ? w.borrow(p + n + ".bias").to(at::kDouble) : at::Tensor();
  };
  auto lin = [&](const at::Tensor& x, const std::string& n) { return at::linear(x, W(n), B(n)); };
  auto norm = [&](const at::Tensor& x, const std::string& n) {
    if (a.norm == model::NormKind::LayerNorm) return at::layer_norm(x, {x.size(-1)}, W(n), B(n), c.norm_eps);
    return W(n) * x * at::rsqrt(x.pow(2).mean(-1, true) + c.norm_eps);
  };
  const int64_t b = hidden.size(0), t = hidden.size(1), hd = c.head_dim, g = c.num_heads / c.num_kv_heads;
  at::Tensor x = hidden.to(at::kDouble);
  at::Tensor n1 = norm(x, a.input_norm);
  at::Tensor q = lin(n1, a.q_proj).view({b, t, c.num_heads, hd});
  at::Tensor k = lin(n1, a.k_proj).view({b, t, c.num_kv_heads, hd});
  at::Tensor v = lin(n1, a.v_proj).view({b, t, c.num_kv_heads, hd}).transpose(1, 2);
  if (!a.q_norm.empty()) {
    q = norm(q, a.q_norm);
    k = norm(k, a.k_norm);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  if (c.rope.type != model::RopeType::None) {
    q = ref_rotate(q, c);
    k = ref_rotate(k, c);
  }
  k = k.repeat_interleave(g, 1);
  v = v.repeat_interleave(g, 1);
  at::Tensor s = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(hd));
  at::Tensor causal = at::ones({t, t}, at::kBool).triu(1);
  at::Tensor attn = at::matmul(s.masked_fill(causal, -INFINITY).softmax(-1), v);
  at::Tensor r = x + lin(attn.transpose(1, 2).reshape({b, t, -1}), a.o_proj);
  at::Tensor n2 = norm(r, a.post_attention_norm);
  at::Tensor m = a.gate_proj.empty() ? lin(lin(n2, a.up_proj).relu(), a.down_proj)
                                     : lin(at::silu(lin(n2, a.gate_proj)) * lin(n2, a.up_proj), a.down_proj);
  return r + m;
}

}  // namespace qf::test
