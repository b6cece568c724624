#pragma once
// Process-wide numeric setup: thread count and a check that a fast BLAS is in use.
namespace qf::cli {

// Lets LibTorch use its AVX-512 kernels where the CPU has them (it picks AVX2 by default; its
// softmax/silu kernels measured ~2x faster with AVX-512 on this project's CPUs). Must run before the
// first ATen operation. An ATEN_CPU_CAPABILITY set by the user wins.
void prefer_avx512_kernels();
// --threads: 0 (all cores) or a positive count; anything else is a UsageError (exit 2).
void check_thread_count(int threads);
// Sets LibTorch's intra-op threads to `threads`, or to the machine's cores when 0 (checked first).
void configure_threads(int threads);
// Warns when LibTorch's BLAS is the slow reference implementation instead of OpenBLAS.
void warn_if_reference_blas();

}  // namespace qf::cli
