#pragma once
// Synthetic models for unit tests: a small config per architecture and random weights held in
// memory (MapSource), so the runtime is tested without fixtures on disk.
#include <memory>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "model/architecture.hpp"
#include "model/config.hpp"
#include "model/weight_source.hpp"

namespace qf::test {

inline model::ModelConfig tiny_config(const std::string& type, int64_t kv_heads = 2) {
  model::ModelConfig c;
  c.model_type = type;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = type == "opt" ? 4 : kv_heads;
  c.head_dim = type == "qwen3" ? 32 : 16;  // qwen3: head_dim*heads != hidden, as in real Qwen3
  c.vocab_size = 101;
  c.max_position_embeddings = 128;
  c.norm_eps = type == "opt" ? 1e-5 : 1e-6;
  c.tie_word_embeddings = type == "opt";
  c.attention_bias = c.mlp_bias = type == "opt";
  if (type == "opt") c.rope.type = model::RopeType::None;
  c.rope.original_max_position_embeddings = 128;
  return c;
}

// Random weights under the architecture's names. Norm weights are near 1 so activations stay sane.
inline std::shared_ptr<model::MapSource> random_weights(const model::ModelConfig& c, uint64_t seed = 0,
                                                        at::ScalarType dtype = at::kFloat) {
  using model::has_bias;
  const auto& a = model::find_architecture(c.model_type);
  auto gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, at::Tensor> m;
  auto rnd = [&](std::vector<int64_t> shape, double stdv) {
    return (at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)) * stdv).to(dtype);
  };
  auto norm = [&](const std::string& name, int64_t dim, bool bias) {
    m[name + ".weight"] = (1 + rnd({dim}, 0.1)).to(dtype);
    if (bias) m[name + ".bias"] = rnd({dim}, 0.1);
  };
  auto lin = [&](const std::string& name, int64_t out, int64_t in, bool bias) {
    m[name + ".weight"] = rnd({out, in}, 1.0 / std::sqrt(static_cast<double>(in)));
    if (bias) m[name + ".bias"] = rnd({out}, 0.1);
  };
  const bool ln = a.norm == model::NormKind::LayerNorm;
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  m[a.embed_tokens] = rnd({c.vocab_size, h}, 1.0);
  if (!a.embed_positions.empty()) m[a.embed_positions] = rnd({c.max_position_embeddings + 2, h}, 0.5);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = a.layer_prefix + std::to_string(i) + ".";
    norm(p + a.input_norm, h, ln);
    norm(p + a.post_attention_norm, h, ln);
    if (!a.q_norm.empty()) {
      norm(p + a.q_norm, c.head_dim, false);
      norm(p + a.k_norm, c.head_dim, false);
    }
    const bool qb = has_bias(a.qkv_bias, c), ob = has_bias(a.o_bias, c), mb = has_bias(a.mlp_bias, c);
    lin(p + a.q_proj, q, h, qb);
    lin(p + a.k_proj, kv, h, qb);
    lin(p + a.v_proj, kv, h, qb);
    lin(p + a.o_proj, h, q, ob);
    if (!a.gate_proj.empty()) lin(p + a.gate_proj, c.intermediate_size, h, mb);
    lin(p + a.up_proj, c.intermediate_size, h, mb);
    lin(p + a.down_proj, h, c.intermediate_size, mb);
  }
  norm(a.final_norm, h, ln);
  if (!c.tie_word_embeddings) m[a.lm_head] = rnd({c.vocab_size, h}, 1.0 / std::sqrt(static_cast<double>(h)));
  return std::make_shared<model::MapSource>(std::move(m));
}

// Relative error as used throughout the model tests: max|a - b| / max|b| over the whole tensor.
inline double rel_err(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor af = a.to(at::kDouble), bf = b.to(at::kDouble);
  return (af - bf).abs().max().item<double>() / std::max(bf.abs().max().item<double>(), 1e-30);
}

}  // namespace qf::test
