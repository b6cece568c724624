#pragma once
// Gram matrix accumulation G += X^T X for Hessians (GPTQ) and Gram losses (AWQ), in fp32.
// bf16 inputs go through oneDNN's bf16 x bf16 -> f32 matmul (AMX on CPUs that have it): bf16
// products are exact in fp32 and oneDNN accumulates in fp32, so the result is an fp32 accumulation
// of the same products at ~3x the rate of converting X to fp32 and calling sgemm. Other dtypes use
// fp32 addmm.
#include <ATen/core/Tensor.h>

namespace qf::pipeline {

// gram: fp32 [n, n], contiguous. x: [tokens, n], any float dtype.
void accumulate_gram(at::Tensor& gram, const at::Tensor& x);

}  // namespace qf::pipeline
