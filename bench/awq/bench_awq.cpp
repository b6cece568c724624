// AWQ per-layer cost on a synthetic layer with Qwen2.5-0.5B dimensions (hidden 896, intermediate
// 4864, 14 heads / 2 kv heads of 64, GQA so no v->o group), 128 x 512 calibration tokens by default.
// The host's run_module is stood in for by a plain ATen attention / SiLU-MLP forward here, in fp32
// or bf16 (--bf16), chunked by whole blocks like the plugin does. Prints wall time by phase, peak
// RSS and achieved FLOP/s against a measured matmul ceiling.
//   bench_awq [--tokens N] [--seqlen L] [--layers K] [--threads T] [--bf16] [--direct-down]
#include "common/blas_environment.hpp"
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include "awq_core.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double peak_rss_gb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);
}

constexpr int64_t H = 896, I = 4864, NH = 14, NKV = 2, HD = 64;

struct Opts {
  int64_t tokens = 128 * 512, seqlen = 512, layers = 1;
  int threads = 0;
  bool bf16 = false, direct_down = false;
};

double matmul_ceiling(at::ScalarType dt) {
  const at::Tensor a = at::randn({4096, H}).to(dt), b = at::randn({I, H}).to(dt);
  at::linear(a, b);
  const auto t = Clock::now();
  const int reps = 5;
  for (int i = 0; i < reps; ++i) at::linear(a, b);
  return 2.0 * 4096 * H * I * reps / since(t) / 1e9;
}

struct Layer {
  at::Tensor q, k, v, o, gate, up, down;
};

at::Tensor lin(const at::Tensor& x, const at::Tensor& w, at::ScalarType dt) {
  return at::linear(x.to(dt), w.to(dt)).to(at::kFloat);
}

// Causal GQA attention over whole blocks of `seqlen` rows (no RoPE: cost is what matters here).
at::Tensor attention(const Layer& l, const at::Tensor& x, int64_t seqlen, at::ScalarType dt) {
  const int64_t b = x.size(0) / seqlen;
  const at::Tensor xd = x.to(dt);
  auto heads = [&](const at::Tensor& w, int64_t n) {
    return at::linear(xd, w.to(dt)).view({b, seqlen, n, HD}).transpose(1, 2);
  };
  const at::Tensor q = heads(l.q, NH), k = heads(l.k, NKV).repeat_interleave(NH / NKV, 1),
                   v = heads(l.v, NKV).repeat_interleave(NH / NKV, 1);
  at::Tensor s = at::matmul(q, k.transpose(-1, -2)).to(at::kFloat) / 8.0;
  s.masked_fill_(at::ones({seqlen, seqlen}, at::kBool).triu(1), -INFINITY);
  const at::Tensor a = at::matmul(at::softmax(s, -1).to(dt), v).transpose(1, 2).reshape({b * seqlen, NH * HD});
  return lin(a, l.o, dt);
}

at::Tensor mlp(const Layer& l, const at::Tensor& x, at::ScalarType dt) {
  const at::Tensor xd = x.to(dt);
  const at::Tensor h = at::silu(at::linear(xd, l.gate.to(dt))) * at::linear(xd, l.up.to(dt));
  return at::linear(h, l.down.to(dt)).to(at::kFloat);
}

template <class F>
at::Tensor chunked(const at::Tensor& x, int64_t seqlen, F f) {
  const int64_t chunk = std::max<int64_t>(1, 8192 / seqlen) * seqlen;
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += chunk) parts.push_back(f(x.narrow(0, i, std::min(chunk, x.size(0) - i))));
  return at::cat(parts, 0);
}

}  // namespace

int main(int argc, char** argv) {
  qf::ensure_blas_environment(argv);  // before any ATen call: OpenBLAS reads it when it loads
  Opts o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoll(argv[++i]) : 0LL; };
    if (a == "--tokens") o.tokens = next();
    else if (a == "--seqlen") o.seqlen = next();
    else if (a == "--layers") o.layers = next();
    else if (a == "--threads") o.threads = static_cast<int>(next());
    else if (a == "--bf16") o.bf16 = true;
    else if (a == "--direct-down") o.direct_down = true;
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  at::set_num_threads(o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const at::ScalarType dt = o.bf16 ? at::kBFloat16 : at::kFloat;
  const double ceil32 = matmul_ceiling(at::kFloat), ceil16 = matmul_ceiling(at::kBFloat16);
  std::printf("threads %d, tokens %lld, forwards in %s\nmatmul ceiling: fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s\n",
              at::get_num_threads(), static_cast<long long>(o.tokens), o.bf16 ? "bf16" : "fp32", ceil32, ceil16);
  const qf::awq::QuantConfig cfg;
  const int64_t N = o.tokens;
  double t_prep = 0, t_attn = 0, t_mlp = 0, t_down = 0, t_clip = 0, t_quant = 0, flops = 0, flop_time = 0;
  for (int64_t layer = 0; layer < o.layers; ++layer) {
    auto t = Clock::now();
    Layer l{at::randn({NH * HD, H}) * 0.03, at::randn({NKV * HD, H}) * 0.03, at::randn({NKV * HD, H}) * 0.03,
            at::randn({H, NH * HD}) * 0.03,  at::randn({I, H}) * 0.03,       at::randn({I, H}) * 0.03,
            at::randn({H, I}) * 0.02};
    at::Tensor x = at::randn({N, H});
    x.select(1, 11).mul_(30.0);
    at::Tensor x_mlp = at::randn({N, H});
    x_mlp.select(1, 5).mul_(20.0);
    const at::Tensor x_down = chunked(x_mlp, o.seqlen, [&](const at::Tensor& c) {
      return (at::silu(lin(c, l.gate, dt)) * lin(c, l.up, dt));
    });
    const at::Tensor xm_attn = qf::awq::activation_mean(x), xm_mlp = qf::awq::activation_mean(x_mlp),
                     xm_down = qf::awq::activation_mean(x_down);
    t_prep += since(t);

    // Group 1: input_layernorm -> q,k,v, inspect self_attn (21 forwards).
    t = Clock::now();
    {
      const at::Tensor y = chunked(x, o.seqlen, [&](const at::Tensor& c) { return attention(l, c, o.seqlen, dt); });
      const auto r = qf::awq::search_scales(
          {l.q, l.k, l.v}, xm_attn, qf::awq::weight_mean({l.q, l.k, l.v}, 128),
          [&](const std::vector<at::Tensor>& c) {
            const Layer lq{c[0], c[1], c[2], l.o, l.gate, l.up, l.down};
            return qf::awq::mse(y, chunked(x, o.seqlen, [&](const at::Tensor& xc) {
                                  return attention(lq, xc, o.seqlen, dt);
                                }));
          },
          20, true, cfg);
      (void)r;
    }
    const double attn_flops = 21.0 * (2.0 * N * H * (NH + 2 * NKV) * HD + 2.0 * N * H * H + 2.0 * N * o.seqlen * NH * HD * 2);
    t_attn += since(t);
    flops += attn_flops;
    flop_time += since(t);

    // Group 3: post_attention_layernorm -> gate,up, inspect mlp (21 forwards).
    t = Clock::now();
    {
      const at::Tensor y = chunked(x_mlp, o.seqlen, [&](const at::Tensor& c) { return mlp(l, c, dt); });
      qf::awq::search_scales(
          {l.gate, l.up}, xm_mlp, qf::awq::weight_mean({l.gate, l.up}, 128),
          [&](const std::vector<at::Tensor>& c) {
            const Layer lq{l.q, l.k, l.v, l.o, c[0], c[1], l.down};
            return qf::awq::mse(y, chunked(x_mlp, o.seqlen, [&](const at::Tensor& xc) { return mlp(lq, xc, dt); }));
          },
          20, true, cfg);
    }
    const double mlp_t = since(t);
    t_mlp += mlp_t;
    flops += 21.0 * 2.0 * N * H * I * 3;
    flop_time += mlp_t;

    // Group 4: up -> down, single Linear: Gram loss (or --direct-down: 20 forwards of down).
    t = Clock::now();
    if (o.direct_down) {
      const at::Tensor y = chunked(x_down, o.seqlen, [&](const at::Tensor& c) { return lin(c, l.down, dt); });
      qf::awq::search_scales({l.down}, xm_down, qf::awq::weight_mean({l.down}, 128),
                             [&](const std::vector<at::Tensor>& c) {
                               return qf::awq::mse(y, chunked(x_down, o.seqlen, [&](const at::Tensor& xc) {
                                                     return lin(xc, c[0], dt);
                                                   }));
                             },
                             20, true, cfg);
    } else {
      const at::Tensor g = qf::awq::gram_matrix(x_down);
      qf::awq::search_scales({l.down}, xm_down, qf::awq::weight_mean({l.down}, 128),
                             [&](const std::vector<at::Tensor>& c) { return qf::awq::gram_loss(c[0], l.down, g, N); },
                             20, true, cfg);
    }
    t_down += since(t);

    // Clip search (v, o, gate, up, down) and final quantization + packing of all 7.
    t = Clock::now();
    const at::Tensor xs = qf::awq::clip_token_sample(x), xsm = qf::awq::clip_token_sample(x_mlp),
                     xsd = qf::awq::clip_token_sample(x_down);
    const at::Tensor xso = at::randn({xs.size(0), NH * HD});
    std::vector<std::pair<at::Tensor, at::Tensor>> clip_jobs = {{l.v, xs}, {l.o, xso}, {l.gate, xsm}, {l.up, xsm},
                                                                {l.down, xsd}};
    for (auto& [w, xc] : clip_jobs) qf::awq::apply_clip(w, qf::awq::search_clip(w, xc, cfg), 128);
    t_clip += since(t);
    t = Clock::now();
    for (const at::Tensor* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down})
      qf::awq::pack_gemm(qf::awq::pseudo_quantize_fp16(*w, cfg, "w"), "w");
    t_quant += since(t);
    std::printf("layer %lld done, peak RSS %.2f GB\n", static_cast<long long>(layer), peak_rss_gb());
  }
  const double total = t_prep + t_attn + t_mlp + t_down + t_clip + t_quant;
  std::printf("per layer (s): inputs+means %.2f | attn group %.2f | mlp group %.2f | down group (%s) %.2f | "
              "clip %.2f | quantize+pack %.2f | total %.2f\n",
              t_prep / o.layers, t_attn / o.layers, t_mlp / o.layers, o.direct_down ? "direct" : "gram",
              t_down / o.layers, t_clip / o.layers, t_quant / o.layers, total / o.layers);
  std::printf("module-forward search: %.0f GFLOP/s achieved (%.0f%% of the %s ceiling)\n", flops / flop_time / 1e9,
              100.0 * flops / flop_time / 1e9 / (o.bf16 ? ceil16 : ceil32), o.bf16 ? "bf16" : "fp32");
  std::printf("24-layer projection: %.1f min; peak RSS %.2f GB\n", 24.0 * total / o.layers / 60.0, peak_rss_gb());
  return 0;
}
