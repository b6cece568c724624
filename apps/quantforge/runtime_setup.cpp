#include "runtime_setup.hpp"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <string>
#include <thread>

#include "cli_common.hpp"

namespace qf::cli {

void prefer_avx512_kernels() {
  __builtin_cpu_init();
  if (std::getenv("ATEN_CPU_CAPABILITY") == nullptr && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    setenv("ATEN_CPU_CAPABILITY", "avx512", 0);
}

void check_thread_count(int threads) {
  if (threads < 0)
    throw UsageError("--threads must be 0 (use all cores) or a positive number of threads, got " +
                     std::to_string(threads));
}

void configure_threads(int threads) {
  check_thread_count(threads);
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  spdlog::debug("using {} threads", n);
}

void warn_if_reference_blas() {
  // The BLAS library LibTorch resolved at load time shows up in our own memory map.
  std::ifstream maps("/proc/self/maps");
  std::string line, blas_path;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("openblas") != std::string::npos || path.find("libmkl") != std::string::npos) return;
    if (path.find("libblas.so") != std::string::npos) blas_path = path;
  }
  if (!blas_path.empty())
    spdlog::warn("LibTorch is using the reference BLAS ({}), which is ~50x slower: install libopenblas0-pthread "
                 "(scripts/setup.sh does)",
                 blas_path);
}

}  // namespace qf::cli
