#pragma once
// A decoder layer served straight from the checkpoint: enough for methods that need no
// calibration (RTN). Weights are converted to fp32 on first read; written weights replace them.
#include <ATen/core/Tensor.h>

#include <map>
#include <set>

#include "host/session.hpp"
#include "model/architecture.hpp"
#include "model/weight_source.hpp"

namespace qf::pipeline {

class CheckpointLayer final : public qf_layer {
 public:
  CheckpointLayer(const model::WeightSource& source, const model::Architecture& arch, int64_t index);

  const std::vector<host::LinearDesc>& linears() const override { return linears_; }
  DLTensor read_weight(const std::string& short_name) override;
  DLTensor read_bias(const std::string& short_name) override;
  void write_weight(const std::string& short_name, const DLTensor& weight) override;

  // Full names of the ".weight" tensors a method replaced.
  const std::set<std::string>& replaced() const { return replaced_; }
  std::string prefix() const { return prefix_; }

 private:
  const host::LinearDesc& find(const std::string& short_name) const;

  const model::WeightSource& source_;
  std::string prefix_;
  std::vector<host::LinearDesc> linears_;
  std::map<std::string, at::Tensor> weights_;  // fp32, by short name
  std::map<std::string, at::Tensor> biases_;
  std::set<std::string> replaced_;
};

// The layer-relative names of an architecture's Linears, in the architecture's order.
std::vector<std::string> linear_names(const model::Architecture& arch);

}  // namespace qf::pipeline
