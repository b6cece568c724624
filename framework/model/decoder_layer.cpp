#include "model/decoder_layer.hpp"

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "common/error.hpp"
#include "model/attention.hpp"
#include "model/rope.hpp"
#include "model/weight_source.hpp"

namespace qf::model {

DecoderLayer::DecoderLayer(const ModelConfig& config, const Architecture& arch, const WeightSource& src,
                           int64_t index, const ComputeOptions& options)
    : config_(config), arch_(arch), options_(options), index_(index) {
  const auto dt = options.dtype;
  const std::string prefix = arch.layer_prefix + std::to_string(index) + ".";
  const int64_t h = config.hidden_size, hd = config.head_dim;
  const int64_t q_out = config.num_heads * hd, kv_out = config.num_kv_heads * hd;
  input_norm_ = Norm::load(src, prefix + arch.input_norm, arch.norm, h, config.norm_eps, dt);
  post_norm_ = Norm::load(src, prefix + arch.post_attention_norm, arch.norm, h, config.norm_eps, dt);
  if (!arch.q_norm.empty()) {
    q_norm_ = Norm::load(src, prefix + arch.q_norm, NormKind::RMSNorm, hd, config.norm_eps, dt);
    k_norm_ = Norm::load(src, prefix + arch.k_norm, NormKind::RMSNorm, hd, config.norm_eps, dt);
  }
  qkv_ = FusedLinear::load(src, prefix, {arch.q_proj, arch.k_proj, arch.v_proj}, {q_out, kv_out, kv_out}, h,
                           has_bias(arch.qkv_bias, config), dt);
  o_ = FusedLinear::load(src, prefix, {arch.o_proj}, {h}, q_out, has_bias(arch.o_bias, config), dt);
  const bool mb = has_bias(arch.mlp_bias, config);
  const int64_t inter = config.intermediate_size;
  if (arch.activation == Activation::SiluGated)
    up_ = FusedLinear::load(src, prefix, {arch.gate_proj, arch.up_proj}, {inter, inter}, h, mb, dt);
  else
    up_ = FusedLinear::load(src, prefix, {arch.up_proj}, {inter}, h, mb, dt);
  down_ = FusedLinear::load(src, prefix, {arch.down_proj}, {h}, inter, mb, dt);
}

at::Tensor DecoderLayer::attention_core(const at::Tensor& x) const {
  const int64_t b = x.size(0), t = x.size(1), hd = config_.head_dim;
  if (config_.sliding_window && t > *config_.sliding_window)
    throw Error("sequence of " + std::to_string(t) + " tokens exceeds sliding_window " +
                std::to_string(*config_.sliding_window) + ": sliding-window attention is not implemented");
  auto qkv = qkv_.split(qkv_.forward(x));
  // [B, T, heads, hd]; q/k norms (Qwen3) act per head before the transpose, as in transformers.
  at::Tensor q = qkv[0].view({b, t, config_.num_heads, hd});
  at::Tensor k = qkv[1].view({b, t, config_.num_kv_heads, hd});
  at::Tensor v = qkv[2].view({b, t, config_.num_kv_heads, hd}).transpose(1, 2);
  if (q_norm_) {
    q = (*q_norm_)(q);
    k = (*k_norm_)(k);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  if (config_.rope.type != RopeType::None) {
    // q and k are views of this call's own q/k/v product (or of the q/k norms' outputs): rotated in
    // place, one pass each, no copies.
    RopeTables rope = rope_tables(config_, t, q.scalar_type());
    apply_rope_(q, rope);
    apply_rope_(k, rope);
  }
  return causal_attention(q, k, v, 1.0 / std::sqrt(static_cast<double>(hd)), options_.fp32_attention_scores);
}

at::Tensor DecoderLayer::attention_residual(const at::Tensor& h, const at::Tensor& a) const { return h + o_.forward(a); }

at::Tensor DecoderLayer::mlp_activation(const at::Tensor& x) const {
  // silu(gate) * up with the activation fused into the gate matmul (bf16); members 0/1 = gate/up.
  if (arch_.activation == Activation::SiluGated) return up_.forward_member_silu_mul(0, x, up_.forward_member(1, x));
  return up_.forward(x).relu_();
}

at::Tensor DecoderLayer::mlp_residual(const at::Tensor& r, const at::Tensor& act) const {
  return r + down_.forward(act);
}

const std::vector<std::string>& DecoderLayer::input_group(int g) const {
  QF_ASSERT(g >= 0 && g < kInputGroups, "input group out of range");
  const FusedLinear* groups[kInputGroups] = {&qkv_, &o_, &up_, &down_};
  return groups[g]->names;
}

int DecoderLayer::input_group_of(const std::string& linear) const {
  for (int g = 0; g < kInputGroups; ++g)
    for (const auto& n : input_group(g))
      if (n == linear) return g;
  find(linear);  // throws the error that lists the layer's linears
  return -1;
}

at::Tensor DecoderLayer::forward(const at::Tensor& hidden, const CaptureFn& capture) const {
  QF_ASSERT(hidden.dim() == 3 && hidden.size(2) == config_.hidden_size, "decoder layer input must be [B, T, hidden]");
  // Pre-norm residual blocks (Llama-like and pre-LN OPT alike).
  const at::Tensor h = hidden.to(options_.dtype);
  const at::Tensor x = attention_input(h);
  if (capture) capture(qkv_.names, x);
  const at::Tensor a = attention_core(x);
  if (capture) capture(o_.names, a);
  const at::Tensor r = attention_residual(h, a);
  const at::Tensor x2 = mlp_input(r);
  if (capture) capture(up_.names, x2);
  const at::Tensor act = mlp_activation(x2);
  if (capture) capture(down_.names, act);
  return mlp_residual(r, act);
}

}  // namespace qf::model
