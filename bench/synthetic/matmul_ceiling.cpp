// The matmul ceilings the end-to-end benchmarks compare against, measured on this machine now:
// a layer-forward shaped GEMM ([8192 tokens, 896] x [896, 4864]) in fp32 and bf16, and the Gram
// shape X^T X ([4864, 8192] x [8192, 4864]) in fp32. Best of 5.   matmul_ceiling [--threads N]
#include "common/blas_environment.hpp"
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

double gflops(int64_t m, int64_t k, int64_t n, at::ScalarType dt) {
  const at::Tensor a = at::randn({m, k}).to(dt), b = at::randn({k, n}).to(dt);
  at::Tensor c = at::mm(a, b);
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    at::mm_out(c, a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * static_cast<double>(m * k) * static_cast<double>(n) / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  qf::ensure_blas_environment(argv);  // before any ATen call: OpenBLAS reads it when it loads
  at::set_num_threads(argc == 3 && !std::strcmp(argv[1], "--threads")
                          ? std::stoi(argv[2])
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::printf("matmul ceiling (%d threads): forward GEMM [8192x896]x[896x4864] fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s; "
              "Gram [4864x8192]x[8192x4864] fp32 %.0f GFLOP/s\n",
              at::get_num_threads(), gflops(8192, 896, 4864, at::kFloat), gflops(8192, 896, 4864, at::kBFloat16),
              gflops(4864, 8192, 4864, at::kFloat));
  return 0;
}
