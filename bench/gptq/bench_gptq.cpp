// fasterquant alone on the three linear shapes of Qwen2.5-0.5B ([out, in] = [896, 896] q/o,
// [4864, 896] gate/up, [896, 4864] down) with random SPD Hessians: seconds per linear, split into the
// factorisation (Cholesky -> inverse -> upper Cholesky) and the column loop, and GFLOP/s against an
// fp32 matmul ceiling measured in the same run.   bench_gptq [--threads N] [--bits B] [--reps R]
#include "common/blas_environment.hpp"
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gptq_solver.hpp"

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double matmul_gflops(int64_t m, int64_t k, int64_t n) {
  const at::Tensor a = at::randn({m, k}), b = at::randn({k, n});
  at::Tensor c = at::mm(a, b);
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const double t0 = now();
    at::mm_out(c, a, b);
    best = std::min(best, now() - t0);
  }
  return 2.0 * m * k * n / best / 1e9;
}
}  // namespace

int main(int argc, char** argv) {
  qf::ensure_blas_environment(argv);  // before any ATen call: OpenBLAS reads it when it loads
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int bits = 8, reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--bits")) bits = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::stoi(argv[i + 1]);
  }
  at::set_num_threads(threads);
  at::manual_seed(0);
  std::printf("threads %d, bits %d, group 128, sym, blocksize 128, fp32; best of %d\n", threads, bits, reps);
  std::printf("matmul ceiling fp32: [4864x896]x[896x896] %.1f GFLOP/s, [896x4864]x[4864x4864] %.1f GFLOP/s\n",
              matmul_gflops(4864, 896, 896), matmul_gflops(896, 4864, 4864));
  struct Shape {
    const char* name;
    int64_t out, in;
  };
  double total_24 = 0.0;
  for (const Shape s : {Shape{"q/o_proj", 896, 896}, Shape{"gate/up_proj", 4864, 896}, Shape{"down_proj", 896, 4864}}) {
    const at::Tensor z = at::randn({s.in, s.in});
    const at::Tensor h = z.matmul(z.t()).div_(static_cast<double>(s.in)).add_(at::eye(s.in), 0.01);
    const at::Tensor w = at::randn({s.out, s.in}).mul_(0.02);
    qf::gptq::SolverOptions o;
    o.bits = bits;
    o.group_size = 128;
    o.fp16_scales = true;
    double best = 1e30, f = 0, b = 0;
    for (int r = 0; r < reps; ++r) {
      const double t0 = now();
      const auto res = qf::gptq::fasterquant(w, h, o, s.name);
      const double t = now() - t0;
      if (t < best) {
        best = t;
        f = res.seconds_factor;
        b = res.seconds_blocks;
      }
    }
    const double n = static_cast<double>(s.in), m = static_cast<double>(s.out);
    const double flop_factor = n * n * n * (1.0 / 3 + 2.0 / 3 + 1.0 / 3);  // chol + chol_inverse + chol
    const double flop_blocks = m * n * n + m * n * 128.0;                  // lazy GEMMs + in-block rank-1
    std::printf("%-13s [%5lld x %5lld]: %.3f s  (factor %.3f s = %.1f GFLOP/s, column loop %.3f s = %.1f GFLOP/s, "
                "overall %.1f GFLOP/s)\n",
                s.name, static_cast<long long>(s.out), static_cast<long long>(s.in), best, f, flop_factor / f / 1e9, b,
                flop_blocks / b / 1e9, (flop_factor + flop_blocks) / best / 1e9);
    // per decoder layer: q, o (896x896; k, v are [128, 896]: counted as one more 896x896), gate, up, down
    total_24 += (std::string(s.name) == "q/o_proj" ? 3.0 : std::string(s.name) == "gate/up_proj" ? 2.0 : 1.0) * best;
  }
  std::printf("≈ solve time per decoder layer %.2f s, 24 layers %.1f s (shared Hessians factor once per input in "
              "the references; here each linear factors its own)\n",
              total_24, 24 * total_24);
  return 0;
}
