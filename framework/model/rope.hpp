#pragma once
// Rotary position embeddings as transformers computes them (rotate_half convention, fp32 angles),
// with the default, linear, dynamic-NTK and llama3 frequency schedules and partial rotary.
#include <ATen/core/Tensor.h>

#include "model/config.hpp"

namespace qf::model {

// Inverse frequencies [rotary_dim/2] in fp32 for a sequence of `seq_len` tokens (dynamic NTK
// depends on it; the other schedules do not).
at::Tensor rope_inv_freq(const ModelConfig& config, int64_t seq_len);

struct RopeTables {
  at::Tensor cos, sin;  // [seq, rotary_dim] in the compute dtype
};
RopeTables rope_tables(const ModelConfig& config, int64_t seq_len, at::ScalarType dtype);

// x: [batch, heads, seq, head_dim]; rotates the first rotary_dim features, passes the rest.
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t);

// The same rotation in place, in one pass: x is a [batch, heads, seq, head_dim] view of bf16 or fp32
// values (any strides, last dimension contiguous) that the caller owns, e.g. the q/k columns of a
// fresh q/k/v product; tables in x's dtype. Bit-identical to apply_rope. Runs on ATen's intra-op
// threads; x must not be read or written by anyone else meanwhile.
void apply_rope_(const at::Tensor& x, const RopeTables& t);

}  // namespace qf::model
