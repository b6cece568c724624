#include "common/blas_environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace qf {

std::string with_malloc_huge_pages(const char* tunables) {
  const std::string current = tunables ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) return {};  // the user chose
  return current.empty() ? "glibc.malloc.hugetlb=1" : current + ":glibc.malloc.hugetlb=1";
}

void ensure_blas_environment(char** argv) {
  bool changed = false;
  __builtin_cpu_init();
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr && __builtin_cpu_supports("avx512f")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    changed = true;
  }
  if (std::getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    changed = true;
  }
  // glibc's malloc asks for transparent huge pages on the regions it maps for large blocks.
  const std::string tunables = with_malloc_huge_pages(std::getenv("GLIBC_TUNABLES"));
  if (!tunables.empty()) {
    setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
    changed = true;
  }
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure: carry on as configured
}

}  // namespace qf
