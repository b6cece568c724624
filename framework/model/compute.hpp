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

}  // namespace qf::model
