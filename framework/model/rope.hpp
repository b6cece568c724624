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

}  // namespace qf::model
