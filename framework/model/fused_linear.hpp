#pragma once
// Linears that read the same input (q/k/v, gate/up) stored as one [sum(out), in] matrix so a
// forward is one matmul. Each member's weight is a row view of that matrix, so hooks that read,
// replace or scale one member need no re-fusion.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/packed_linear.hpp"

namespace qf::model {

class WeightSource;

struct FusedLinear {
  std::vector<std::string> names;   // layer-relative
  std::vector<int64_t> rows;        // out features of each member
  at::Tensor weight;                // [sum(rows), in]
  at::Tensor bias;                  // [sum(rows)] or undefined

  // Loads `<prefix><name>.weight` (+ `.bias` when `with_bias`) for every member, converted to dtype.
  static FusedLinear load(const WeightSource& src, const std::string& prefix, std::vector<std::string> names,
                          std::vector<int64_t> rows, int64_t in_features, bool with_bias, at::ScalarType dtype);

  at::Tensor forward(const at::Tensor& x) const;                      // all members, concatenated
  at::Tensor forward_member(int i, const at::Tensor& x) const;         // one member's output
  // silu(member i's output) * multiplier, fused into the matmul for bf16 (gated MLPs).
  at::Tensor forward_member_silu_mul(int i, const at::Tensor& x, const at::Tensor& multiplier) const;
  int member(const std::string& name) const;                          // -1 when absent
  at::Tensor member_weight(int i) const;                              // view [rows[i], in]
  at::Tensor member_bias(int i) const;                                // view or undefined
  std::vector<at::Tensor> split(const at::Tensor& y) const;           // fused output -> per member
  int64_t in_features() const { return weight.size(1); }

  // bf16 forwards keep oneDNN-packed copies of the weights (see packed_linear.hpp).
  PackedLinear packed_all;
  std::vector<PackedLinear> packed_members;
};

}  // namespace qf::model
