#pragma once
// A causal LM read layer by layer: embeddings, decoder layers loaded on demand (one resident at a
// time in logits()/trace()), final norm and lm_head. Weights stay in the mmap'ed checkpoint until a
// layer asks for them.
#include <filesystem>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/architecture.hpp"
#include "model/compute.hpp"
#include "model/config.hpp"
#include "model/decoder_layer.hpp"
#include "model/norm.hpp"
#include "model/weight_source.hpp"

namespace qf::model {

struct ForwardTrace {
  std::vector<at::Tensor> layer_outputs;  // per decoder layer, [B, T, hidden], compute dtype
  at::Tensor final_norm;                  // [B, T, hidden], compute dtype
  at::Tensor logits;                      // [B, T, vocab], fp32 (undefined when not requested)
};

class Model {
 public:
  // config.json + safetensors (single file or index) from a model directory.
  static Model open(const std::filesystem::path& dir, const ComputeOptions& options = {});
  Model(ModelConfig config, std::shared_ptr<const WeightSource> weights, const ComputeOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const Architecture& architecture() const { return arch_; }
  const ComputeOptions& options() const { return options_; }
  const WeightSource& weights() const { return *weights_; }
  int64_t num_layers() const { return config_.num_layers; }

  // input_ids [B, T] (integer) -> [B, T, hidden] in the compute dtype (OPT adds learned positions).
  at::Tensor embed(const at::Tensor& input_ids) const;
  DecoderLayer load_layer(int64_t index) const;  // copies that layer's weights now
  at::Tensor final_norm(const at::Tensor& hidden) const;
  at::Tensor lm_head(const at::Tensor& normed) const;  // -> fp32 logits [B, T, vocab]

  at::Tensor logits(const at::Tensor& input_ids) const;
  ForwardTrace trace(const at::Tensor& input_ids, bool with_logits = true) const;

 private:
  ModelConfig config_;
  Architecture arch_;
  ComputeOptions options_;
  std::shared_ptr<const WeightSource> weights_;
  Norm final_norm_;
};

}  // namespace qf::model
