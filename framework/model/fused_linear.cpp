#include "model/fused_linear.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "model/weight_source.hpp"

namespace qf::model {
namespace {

int64_t offset_of(const std::vector<int64_t>& rows, int i) {
  int64_t off = 0;
  for (int j = 0; j < i; ++j) off += rows[static_cast<size_t>(j)];
  return off;
}

}  // namespace

FusedLinear FusedLinear::load(const WeightSource& src, const std::string& prefix, std::vector<std::string> names,
                              std::vector<int64_t> rows, int64_t in_features, bool with_bias,
                              at::ScalarType dtype) {
  FusedLinear f;
  std::vector<at::Tensor> ws, bs;
  for (size_t i = 0; i < names.size(); ++i) {
    ws.push_back(owned_copy(src, prefix + names[i] + ".weight", dtype, {rows[i], in_features}));
    if (with_bias) bs.push_back(owned_copy(src, prefix + names[i] + ".bias", dtype, {rows[i]}));
  }
  f.weight = ws.size() == 1 ? ws[0] : at::cat(ws, 0);
  if (with_bias) f.bias = bs.size() == 1 ? bs[0] : at::cat(bs, 0);
  f.packed_members.resize(names.size());
  f.names = std::move(names);
  f.rows = std::move(rows);
  return f;
}

at::Tensor FusedLinear::forward(const at::Tensor& x) const {
  if (PackedLinear::applicable(x, weight)) return packed_all.forward(x, weight, bias);
  return at::linear(x, weight, bias);
}

at::Tensor FusedLinear::forward_member(int i, const at::Tensor& x) const {
  const at::Tensor w = member_weight(i), b = member_bias(i);
  if (PackedLinear::applicable(x, w)) return packed_members[static_cast<size_t>(i)].forward(x, w, b);
  return at::linear(x, w, b);
}

at::Tensor FusedLinear::forward_member_silu_mul(int i, const at::Tensor& x, const at::Tensor& multiplier) const {
  const at::Tensor w = member_weight(i), b = member_bias(i);
  if (PackedLinear::applicable(x, w) && multiplier.scalar_type() == x.scalar_type())
    return packed_members[static_cast<size_t>(i)].forward_silu_mul(x, w, b, multiplier);
  return at::silu(at::linear(x, w, b)).mul_(multiplier);
}

int FusedLinear::member(const std::string& name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

at::Tensor FusedLinear::member_weight(int i) const {
  return weight.narrow(0, offset_of(rows, i), rows[static_cast<size_t>(i)]);
}

at::Tensor FusedLinear::member_bias(int i) const {
  if (!bias.defined()) return {};
  return bias.narrow(0, offset_of(rows, i), rows[static_cast<size_t>(i)]);
}

std::vector<at::Tensor> FusedLinear::split(const at::Tensor& y) const {
  if (names.size() == 1) return {y};
  return at::split_with_sizes(y, rows, -1);
}

}  // namespace qf::model
