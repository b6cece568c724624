#pragma once
// Dequantizing one packed Linear to the fp32 weight [out, in] a loader would compute:
//   W[o, i] = scales[g(i), o] * (q[i, o] - z[g(i), o])
// GPTQ (docs/gptq.md#packing-v1-and-v2): qweight [in*bits/32, out], qzeros [ngroups, out*bits/32],
//   scales [ngroups, out], g(i) = g_idx[i] when stored, else i / group_size; v1 zeros are stored minus one.
// AWQ GEMM (docs/awq.md#gemm-packing): qweight [in, out/8], qzeros [in/G, out/8] (0,2,4,6,1,3,5,7 nibble order),
//   scales [in/G, out], g(i) = i / G.
// The unpacking is the SDK's (quantforge/packing.hpp), so reader and writers share one definition.
#include <string>

#include <ATen/core/Tensor.h>

#include "eval/quant_scheme.hpp"
#include "model/weight_source.hpp"

namespace qf::eval {

// Reads <prefix>.qweight/.qzeros/.scales (and .g_idx for GPTQ) from `src`. qf::Error naming the
// tensor for a missing tensor, a wrong dtype or shapes that do not fit the scheme.
at::Tensor dequantize_linear(const model::WeightSource& src, const std::string& prefix, const QuantScheme& scheme);

}  // namespace qf::eval
