#pragma once
// Settings OpenBLAS and glibc read once, when the process starts: a process that computes with
// LibTorch calls ensure_blas_environment first thing in main(), before any ATen call.
#include <string>

namespace qf {

// Sets, where the user has not:
//  - OPENBLAS_CORETYPE=SkylakeX on AVX-512 CPUs. OpenBLAS 0.3.21 does not recognise this project's
//    CPUs ("Core not found") and falls back to its generic Prescott kernels: ~6 instead of ~200 fp32
//    GFLOP/s.
//  - OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles). OpenBLAS's worker threads otherwise spin on sched_yield
//    for 2^28 cycles (~0.1 s) after every BLAS call, while LibTorch's own OpenMP threads run the
//    attention, softmax and elementwise work between GEMMs on the same cores; on 2 cores that fight
//    put half the CPU time in the kernel. With the short timeout they sleep at once and are woken
//    by the next call (microseconds against the milliseconds a GEMM takes).
//  - glibc.malloc.hugetlb=1 in GLIBC_TUNABLES (glibc >= 2.35; older ones ignore it): malloc then
//    madvises transparent huge pages on the regions it maps for large blocks. Each fresh large tensor
//    (activations, logits, search outputs) otherwise costs a page fault per 4 KiB: a new 311 MB fp32
//    tensor took 460 ms to allocate and touch on the development VM, 17 ms with huge pages.
// When it changes any of them, it re-executes the process (same argv) so the library loads with them;
// the re-executed process finds them set and returns at once. Returns if execv fails.
void ensure_blas_environment(char** argv);

// GLIBC_TUNABLES with glibc.malloc.hugetlb=1 added to `tunables` (the current value, or null), or ""
// when it already names that tunable (whatever its value: the user's choice stands).
std::string with_malloc_huge_pages(const char* tunables);

}  // namespace qf
