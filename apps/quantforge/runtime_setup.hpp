#pragma once
// Process-wide numeric setup: thread count and a check that a fast BLAS is in use.
namespace qf::cli {

// Sets LibTorch's intra-op threads to `threads`, or to the machine's cores when 0.
void configure_threads(int threads);
// Warns when LibTorch's BLAS is the slow reference implementation instead of OpenBLAS.
void warn_if_reference_blas();

}  // namespace qf::cli
