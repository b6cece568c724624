#include "common/blas_environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace qf {

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
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables == nullptr || std::string(tunables).find("glibc.malloc.hugetlb") == std::string::npos) {
    const std::string value = tunables && *tunables ? std::string(tunables) + ":glibc.malloc.hugetlb=1"
                                                    : std::string("glibc.malloc.hugetlb=1");
    setenv("GLIBC_TUNABLES", value.c_str(), 1);
    changed = true;
  }
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure: carry on as configured
}

}  // namespace qf
