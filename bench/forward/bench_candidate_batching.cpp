// bench_candidate_batching: would stacking the AWQ scale search's grid candidates into one wider
// GEMM run faster than one GEMM per candidate? The candidates share the module input (their weights
// already carry 1/s), so k of them can be one [tokens, in] x [in, k * out] product. This times the
// search's input-side products (q/k/v, gate/up) through the kernel the layer uses (oneDNN, weights
// packed once) for 1, 4 and 20 candidates, on one calibration chunk of tokens, and prints the rates
// and the speed-up stacking would give. The output-side products (o_proj, down) would only gain
// rows, which the chunk size already varies without effect. Left out on both sides alike: the search
// rewrites the weights for every candidate, so each product also repacks its weight (stacking would
// repack as much). Each call allocates its output; the 20-candidate outputs are large enough to be
// fresh pages every time, so the figure for stacking is, if anything, low by their page faults.
// Usage: bench_candidate_batching [threads] [tokens]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include "common/blas_environment.hpp"
#include "model/packed_linear.hpp"

namespace {

double best_seconds(int repeats, const std::function<void()>& f) {
  f();  // warm-up: packs the weight, creates the primitive, faults the pages in
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// GFLOP/s of x [tokens, in] x W^T for W [out * k, in] (k candidates stacked), bf16, packed weights.
double rate(int64_t tokens, int64_t in, int64_t out, int64_t k) {
  const at::Tensor x = at::randn({tokens, in}).to(at::kBFloat16);
  const at::Tensor w = (at::randn({out * k, in}) * 0.03).to(at::kBFloat16);
  if (!qf::model::PackedLinear::applicable(x, w)) {
    std::fprintf(stderr, "the packed bf16 kernel does not apply here\n");
    std::exit(2);
  }
  qf::model::PackedLinear packed;
  const double s = best_seconds(5, [&] { packed.forward(x, w, at::Tensor()); });
  return 2.0 * static_cast<double>(tokens) * static_cast<double>(in) * static_cast<double>(out * k) / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  qf::ensure_blas_environment(argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t tokens = argc > 2 ? std::atoll(argv[2]) : 4096;
  at::set_num_threads(threads);
  std::printf("bench_candidate_batching: %lld tokens, %d threads, bf16 (oneDNN, packed weights)\n",
              static_cast<long long>(tokens), threads);
  std::printf("%-34s | %12s | %12s | %12s | %s\n", "product (per candidate)", "1 GFLOP/s", "4 stacked", "20 stacked",
              "gain of 20 stacked");
  const struct {
    const char* what;
    int64_t in, out;
  } shapes[] = {
      {"hidden512 q/k/v    [512 -> 768]", 512, 768},
      {"hidden512 gate/up  [512 -> 3584]", 512, 3584},
      {"Qwen2.5-0.5B q/k/v [896 -> 1152]", 896, 1152},
      {"Qwen2.5-0.5B gate/up [896 -> 9728]", 896, 9728},
  };
  for (const auto& s : shapes) {
    const double r1 = rate(tokens, s.in, s.out, 1), r4 = rate(tokens, s.in, s.out, 4);
    const double r20 = rate(tokens, s.in, s.out, 20);
    std::printf("%-34s | %12.0f | %12.0f | %12.0f | %.2fx\n", s.what, r1, r4, r20, r20 / r1);
  }
  return 0;
}
