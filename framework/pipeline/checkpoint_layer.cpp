#include "pipeline/checkpoint_layer.hpp"

#include <ATen/ATen.h>

#include "common/error.hpp"
#include "pipeline/dl_views.hpp"

namespace qf::pipeline {

std::vector<std::string> linear_names(const model::Architecture& arch) {
  std::vector<std::string> out;
  for (const std::string* n : {&arch.q_proj, &arch.k_proj, &arch.v_proj, &arch.o_proj, &arch.gate_proj,
                               &arch.up_proj, &arch.down_proj})
    if (!n->empty()) out.push_back(*n);
  return out;
}

CheckpointLayer::CheckpointLayer(const model::WeightSource& source, const model::Architecture& arch, int64_t index)
    : source_(source), prefix_(arch.layer_prefix + std::to_string(index) + ".") {
  for (const auto& short_name : linear_names(arch)) {
    const std::string full = prefix_ + short_name;
    if (!source.contains(full + ".weight")) throw Error("checkpoint has no tensor '" + full + ".weight'");
    const at::Tensor w = source.borrow(full + ".weight");
    if (w.dim() != 2) throw Error("tensor '" + full + ".weight' should be 2-D [out, in], has " + std::to_string(w.dim()) + " dims");
    linears_.push_back(host::LinearDesc{full, short_name, w.size(1), w.size(0), source.contains(full + ".bias")});
  }
}

const host::LinearDesc& CheckpointLayer::find(const std::string& short_name) const {
  for (const auto& l : linears_)
    if (l.short_name == short_name) return l;
  throw host::ServiceError(QF_ERR_NOT_FOUND, "layer " + prefix_ + " has no linear '" + short_name + "'");
}

DLTensor CheckpointLayer::read_weight(const std::string& short_name) {
  const host::LinearDesc& d = find(short_name);
  auto it = weights_.find(short_name);
  if (it == weights_.end())
    it = weights_.emplace(short_name, model::owned_copy(source_, d.name + ".weight", at::kFloat)).first;
  return view_of(it->second);
}

DLTensor CheckpointLayer::read_bias(const std::string& short_name) {
  const host::LinearDesc& d = find(short_name);
  if (!d.has_bias) throw host::ServiceError(QF_ERR_NOT_FOUND, d.name + " has no bias");
  auto it = biases_.find(short_name);
  if (it == biases_.end())
    it = biases_.emplace(short_name, model::owned_copy(source_, d.name + ".bias", at::kFloat)).first;
  return view_of(it->second);
}

void CheckpointLayer::write_weight(const std::string& short_name, const DLTensor& weight) {
  const host::LinearDesc& d = find(short_name);
  at::Tensor w = borrow_dl(weight, d.name);
  if (w.dim() != 2 || w.size(0) != d.out_features || w.size(1) != d.in_features)
    throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, d.name + ": written weight has shape " +
                                                          c10::str(w.sizes()) + ", expected [" +
                                                          std::to_string(d.out_features) + ", " +
                                                          std::to_string(d.in_features) + "]");
  weights_[short_name] = w.to(at::kFloat).clone().contiguous();
  replaced_.insert(d.name + ".weight");
}

}  // namespace qf::pipeline
