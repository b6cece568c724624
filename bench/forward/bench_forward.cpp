// bench_forward: tokens/s and GFLOP/s of a full forward (seqlen 512, batch 1) on a random-init
// model with Qwen2.5-0.5B dimensions (or the small hidden512 shape of bench/synthetic), in fp32 and
// bf16, against a matmul ceiling measured in the same run.
// Usage: bench_forward [threads] [repeats] [fp32|bf16|both] [qwen2.5-0.5b|hidden512]
// Timings are best-of-repeats: on a shared machine other processes inflate single runs.
#include "common/blas_environment.hpp"
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include "model/attention.hpp"
#include "model/model.hpp"

using namespace qf::model;

namespace {

// Qwen2.5-0.5B's dimensions, or hidden512: 8 layers of hidden 512, intermediate 1792, 8/2 heads,
// vocab 4096 (the 29M-parameter shape make_synthetic_model writes).
ModelConfig qwen2_shape(bool small) {
  ModelConfig c;
  c.model_type = "qwen2";
  c.num_layers = small ? 8 : 24;
  c.hidden_size = small ? 512 : 896;
  c.intermediate_size = small ? 1792 : 4864;
  c.num_heads = small ? 8 : 14;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.vocab_size = small ? 4096 : 151936;
  c.max_position_embeddings = 32768;
  c.rope.theta = 1e6;
  c.tie_word_embeddings = true;
  return c;
}

// One random layer's tensors registered under every layer's names (generation stays cheap); each
// DecoderLayer still copies its own weights, so the resident model is full size.
std::shared_ptr<MapSource> synthetic(const ModelConfig& c, at::ScalarType dtype) {
  const auto& a = find_architecture(c.model_type);
  auto rnd = [&](std::vector<int64_t> s, double std) { return (at::randn(s) * std).to(dtype); };
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t f = c.intermediate_size;
  std::map<std::string, at::Tensor> one = {
      {a.input_norm + ".weight", at::ones({h}).to(dtype)},
      {a.post_attention_norm + ".weight", at::ones({h}).to(dtype)},
      {a.q_proj + ".weight", rnd({q, h}, 0.03)}, {a.q_proj + ".bias", rnd({q}, 0.02)},
      {a.k_proj + ".weight", rnd({kv, h}, 0.03)}, {a.k_proj + ".bias", rnd({kv}, 0.02)},
      {a.v_proj + ".weight", rnd({kv, h}, 0.03)}, {a.v_proj + ".bias", rnd({kv}, 0.02)},
      {a.o_proj + ".weight", rnd({h, q}, 0.03)},
      {a.gate_proj + ".weight", rnd({f, h}, 0.03)},
      {a.up_proj + ".weight", rnd({f, h}, 0.03)},
      {a.down_proj + ".weight", rnd({h, f}, 0.015)}};
  std::map<std::string, at::Tensor> m;
  for (int64_t i = 0; i < c.num_layers; ++i)
    for (const auto& [k, v] : one) m[a.layer_prefix + std::to_string(i) + "." + k] = v;
  m[a.embed_tokens] = rnd({c.vocab_size, h}, 0.02);
  m[a.final_norm + ".weight"] = at::ones({h}).to(dtype);
  return std::make_shared<MapSource>(std::move(m));
}

template <class F>
double best_seconds(int repeats, F&& f) {
  f();  // warm-up (oneDNN primitive creation, page faults)
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

double matmul_ceiling(at::ScalarType dt, int repeats) {
  at::Tensor x = at::randn({512, 896}).to(dt), w = at::randn({4864, 896}).to(dt);
  double s = best_seconds(repeats * 3, [&] { at::linear(x, w); });
  return 2.0 * 512 * 896 * 4864 / s / 1e9;
}

const char* name(at::ScalarType dt) { return dt == at::kFloat ? "fp32" : "bf16"; }

}  // namespace

int main(int argc, char** argv) {
  qf::ensure_blas_environment(argv);  // before any ATen call: OpenBLAS reads it when it loads
  const int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string which = argc > 3 ? argv[3] : "both";
  const std::string shape = argc > 4 ? argv[4] : "qwen2.5-0.5b";
  if (shape != "qwen2.5-0.5b" && shape != "hidden512") {
    std::fprintf(stderr, "shape must be qwen2.5-0.5b or hidden512\n");
    return 2;
  }
  at::set_num_threads(threads);
  const ModelConfig c = qwen2_shape(shape == "hidden512");
  const int64_t t = 512;
  // FLOPs: 2*params per token for every matmul, plus causal attention (QK^T and PV over the
  // T(T+1)/2 visible pairs: 4*heads*hd*T(T+1)/2 per layer).
  const double h = c.hidden_size, kvd = c.num_kv_heads * c.head_dim, qd = c.num_heads * c.head_dim;
  const double layer_params = h * (qd + 2 * kvd) + qd * h + 3 * h * c.intermediate_size;
  const double attn = 4.0 * c.num_heads * c.head_dim * t * (t + 1) / 2.0;
  const double body_flops = c.num_layers * (2 * layer_params * t + attn);
  const double head_flops = 2.0 * h * c.vocab_size * t;
  std::printf("bench_forward: %s dims (%lld x [%lld, %lld], %lld/%lld heads, vocab %lld), seqlen %lld, batch 1, "
              "%d threads\n", shape.c_str(), static_cast<long long>(c.num_layers),
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.intermediate_size),
              static_cast<long long>(c.num_heads), static_cast<long long>(c.num_kv_heads),
              static_cast<long long>(c.vocab_size), static_cast<long long>(t), threads);
  std::printf("%-5s | %-26s | %9s | %9s | %8s | %s\n", "dtype", "what", "ms", "tokens/s", "GFLOP/s", "% of ceiling");
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16}) {
    if (which != "both" && which != name(dt)) continue;
    const double ceiling = matmul_ceiling(dt, repeats);
    std::printf("%-5s | %-26s | %9s | %9s | %8.0f | 100\n", name(dt), "matmul [512x896]x[896x4864]", "", "", ceiling);
    Model m(c, synthetic(c, dt), ComputeOptions{dt, false});
    std::vector<DecoderLayer> layers;
    for (int64_t i = 0; i < c.num_layers; ++i) layers.push_back(m.load_layer(i));
    at::Tensor ids = at::randint(0, c.vocab_size, {1, t}, at::kLong);
    at::Tensor normed;
    auto body = [&] {
      at::Tensor x = m.embed(ids);
      for (const auto& l : layers) x = l.forward(x);
      normed = m.final_norm(x);
    };
    auto row = [&](const char* what, double s, double flops) {
      std::printf("%-5s | %-26s | %9.1f | %9.0f | %8.0f | %.0f\n", name(dt), what, s * 1e3, t / s, flops / s / 1e9,
                  100 * flops / s / 1e9 / ceiling);
    };
    const double s_body = best_seconds(repeats, body);
    row("layers, resident", s_body, body_flops);
    // The logits buffer is reused across calls, as eval does: a fresh [512, 151936] fp32 tensor costs
    // ~0.5 s of page faults on this VM, more than the product itself.
    at::Tensor logits;
    const double s_head = best_seconds(repeats, [&] { m.lm_head(normed, &logits); });
    row("lm_head only", s_head, head_flops);
    row("layers + lm_head", s_body + s_head, body_flops + head_flops);
    // Where a layer's time goes: each cut of DecoderLayer timed alone over all layers, each with
    // its GEMM FLOPs (the rest of a part's work is elementwise: norms, RoPE, softmax, SiLU, adds).
    {
      at::Tensor h0 = m.embed(ids), x = layers[0].attention_input(h0), a = layers[0].attention_core(x);
      at::Tensor r = layers[0].attention_residual(h0, a), y = layers[0].mlp_input(r), g = layers[0].mlp_activation(y);
      const double n = static_cast<double>(c.num_layers), f = c.intermediate_size;
      const struct {
        const char* what;
        std::function<void(const DecoderLayer&)> run;
        double flops;
      } parts[] = {
          {"  attention_input (norm)", [&](const DecoderLayer& l) { l.attention_input(h0); }, 0},
          {"  attention_core (qkv,rope,attn)", [&](const DecoderLayer& l) { l.attention_core(x); },
           2 * t * h * (qd + 2 * kvd) + attn},
          {"  attention_residual (o,add)", [&](const DecoderLayer& l) { l.attention_residual(h0, a); }, 2 * t * qd * h},
          {"  mlp_input (norm)", [&](const DecoderLayer& l) { l.mlp_input(r); }, 0},
          {"  mlp_activation (gate,up)", [&](const DecoderLayer& l) { l.mlp_activation(y); }, 2 * t * h * 2 * f},
          {"  mlp_residual (down,add)", [&](const DecoderLayer& l) { l.mlp_residual(r, g); }, 2 * t * f * h},
      };
      for (const auto& part : parts) {
        const double s = best_seconds(repeats, [&] {
          for (const auto& l : layers) part.run(l);
        });
        row(part.what, s, n * part.flops);
      }
      // The attention alone (scores, softmax, P.V; the kernel the layer uses), on one layer's q/k/v
      // shapes, as many times as there are layers; its FLOPs are the causal pairs' only.
      const at::Tensor q = at::randn({1, t, c.num_heads, c.head_dim}).to(dt).transpose(1, 2);
      const at::Tensor k = at::randn({1, t, c.num_kv_heads, c.head_dim}).to(dt).transpose(1, 2);
      const at::Tensor v = at::randn({1, t, c.num_kv_heads, c.head_dim}).to(dt).transpose(1, 2);
      const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
      const double s_attn = best_seconds(repeats, [&] {
        for (int64_t i = 0; i < c.num_layers; ++i) causal_attention(q, k, v, scale, false);
      });
      row("    of which attention", s_attn, n * attn);
      // The two residual adds of each layer alone (the rest of the o,add and down,add cuts is the GEMM).
      const at::Tensor o_out = at::randn_like(h0), down_out = at::randn_like(r);
      const double s_add = best_seconds(repeats, [&] {
        for (int64_t i = 0; i < c.num_layers; ++i) {
          at::Tensor r1 = h0 + o_out;
          at::Tensor r2 = r + down_out;
        }
      });
      row("    of which residual adds", s_add, 0);
    }
    layers.clear();
    row("logits(), streamed layers", best_seconds(1, [&] { m.logits(ids); }), body_flops + head_flops);
  }
  return 0;
}
