#pragma once
// Process-wide numeric setup: thread count and a check that a fast BLAS is in use.
namespace qf::cli {

// Lets LibTorch use its AVX-512 kernels where the CPU has them (it picks AVX2 by default; its
// softmax/silu kernels measured ~2x faster with AVX-512 on this project's CPUs). Must run before the
// first ATen operation. An ATEN_CPU_CAPABILITY set by the user wins.
void prefer_avx512_kernels();
// Sets LibTorch's intra-op threads to `threads`, or to the machine's cores when 0.
void configure_threads(int threads);
// Warns when LibTorch's BLAS is the slow reference implementation instead of OpenBLAS.
void warn_if_reference_blas();

}  // namespace qf::cli
