// DecoderLayer hooks used by quantization methods: inspect/replace weights, capture inputs, run a
// sub-module, apply AWQ scales. Kept apart from the forward so each file has one job.
#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "common/error.hpp"
#include "model/decoder_layer.hpp"

namespace qf::model {

std::pair<const FusedLinear*, int> DecoderLayer::find(const std::string& linear) const {
  for (const FusedLinear* f : {&qkv_, &o_, &up_, &down_}) {
    int i = f->member(linear);
    if (i >= 0) return {f, i};
  }
  std::string list;
  for (const auto& l : linears()) list += (list.empty() ? "" : ", ") + l.name;
  throw Error("layer " + std::to_string(index_) + " has no linear '" + linear + "' (linears: " + list + ")");
}

std::pair<FusedLinear*, int> DecoderLayer::find(const std::string& linear) {
  auto [f, i] = static_cast<const DecoderLayer*>(this)->find(linear);
  return {const_cast<FusedLinear*>(f), i};
}

const Norm* DecoderLayer::norm(const std::string& name) const {
  return const_cast<DecoderLayer*>(this)->find_norm(name);
}

Norm* DecoderLayer::find_norm(const std::string& name) {
  if (name == arch_.input_norm) return &input_norm_;
  if (name == arch_.post_attention_norm) return &post_norm_;
  return nullptr;
}

std::vector<LinearInfo> DecoderLayer::linears() const {
  std::vector<LinearInfo> out;
  for (const FusedLinear* f : {&qkv_, &o_, &up_, &down_})
    for (size_t i = 0; i < f->names.size(); ++i)
      out.push_back({f->names[i], f->in_features(), f->rows[i], f->bias.defined()});
  return out;
}

at::Tensor DecoderLayer::weight(const std::string& linear) const {
  auto [f, i] = find(linear);
  return f->member_weight(i);
}

at::Tensor DecoderLayer::bias(const std::string& linear) const {
  auto [f, i] = find(linear);
  return f->member_bias(i);
}

void DecoderLayer::set_weight(const std::string& linear, const at::Tensor& w, const at::Tensor& b) {
  auto [f, i] = find(linear);
  at::Tensor dst = f->member_weight(i);
  if (w.sizes() != dst.sizes())
    throw Error("set_weight('" + linear + "'): shape mismatch with the layer's weight");
  dst.copy_(w);
  if (b.defined()) {
    at::Tensor db = f->member_bias(i);
    if (!db.defined()) throw Error("set_weight('" + linear + "'): this linear has no bias");
    if (b.sizes() != db.sizes()) throw Error("set_weight('" + linear + "'): bias shape mismatch");
    db.copy_(b);
  }
}

std::map<std::string, at::Tensor> DecoderLayer::capture_inputs(const at::Tensor& hidden, at::Tensor* output) const {
  std::map<std::string, at::Tensor> inputs;
  at::Tensor out = forward(hidden, [&](const std::vector<std::string>& names, const at::Tensor& x) {
    for (const auto& n : names) inputs[n] = x;
  });
  if (output) *output = out;
  return inputs;
}

at::Tensor DecoderLayer::run_module(const std::string& module, const at::Tensor& input) const {
  at::Tensor x = input.to(options_.dtype);
  if (module == arch_.attention_module) return o_.forward(attention_core(x));
  if (module == arch_.mlp_module) return down_.forward(mlp_activation(x));
  auto [f, i] = find(module);
  return at::linear(x, f->member_weight(i), f->member_bias(i));
}

void DecoderLayer::scale(const std::string& prev_op, const std::vector<std::string>& linears,
                         const at::Tensor& s) {
  QF_ASSERT(s.dim() == 1, "scales must be 1-D");
  const auto n = s.size(0);
  // Validate every target before touching anything, so a bad call leaves the layer unchanged.
  for (const auto& l : linears)
    if (weight(l).size(1) != n)
      throw Error("scale: linear '" + l + "' has " + std::to_string(weight(l).size(1)) + " input features, scales have " +
                  std::to_string(n));
  if (Norm* norm = find_norm(prev_op)) {
    if (norm->weight.size(0) != n) throw Error("scale: norm '" + prev_op + "' size differs from the scales");
    at::Tensor sd = s.to(norm->weight.scalar_type());
    norm->weight.div_(sd);
    if (norm->bias.defined()) norm->bias.div_(sd);
  } else {
    auto [f, i] = find(prev_op);
    at::Tensor w = f->member_weight(i);
    if (w.size(0) < n) throw Error("scale: '" + prev_op + "' has fewer output rows than scales");
    at::Tensor sd = s.to(w.scalar_type());
    // AutoAWQ scale_fc_fcs: divide the last len(s) output rows (all of them for v/up/fc1).
    w.narrow(0, w.size(0) - n, n).div_(sd.view({-1, 1}));
    at::Tensor b = f->member_bias(i);
    if (b.defined()) b.narrow(0, b.size(0) - n, n).div_(sd);
  }
  for (const auto& l : linears) {
    at::Tensor w = weight(l);
    w.mul_(s.to(w.scalar_type()).view({1, -1}));
  }
}

}  // namespace qf::model
