#pragma once
// How layer forwards are computed. fp16 checkpoints are computed in fp32 or bf16: LibTorch 1.13
// has no CPU fp16 matmul.
#include <string>

#include <c10/core/ScalarType.h>

namespace qf::model {

struct ComputeOptions {
  at::ScalarType dtype = at::kFloat;  // kFloat or kBFloat16
  // bf16 only: compute Q.K^T and softmax in fp32 (fp32 compute always does).
  bool fp32_attention_scores = false;
};

// "fp32"/"float32" or "bf16"/"bfloat16"; qf::Error otherwise.
at::ScalarType parse_compute_dtype(const std::string& name);

// Whether /proc/cpuinfo lists amx_bf16 or avx512_bf16 (bf16 matmul through oneDNN at several
// times the fp32 rate, docs/architecture.md#numerics).
bool cpu_has_fast_bf16();

// The layer-forward dtype for "auto" (or the recipe's explicit choice): bf16 for bf16/fp16
// checkpoints on CPUs with fast bf16 matmul (the references run such models in 16-bit too), else
// fp32. `why` is for the log.
struct AutoDtype {
  at::ScalarType dtype;
  std::string why;
};
AutoDtype choose_compute_dtype(const std::string& requested, const std::string& checkpoint_dtype);

}  // namespace qf::model
