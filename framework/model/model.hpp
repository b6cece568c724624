#pragma once
// A causal LM read layer by layer: embeddings, decoder layers loaded on demand (one resident at a
// time in logits()/trace()), final norm and lm_head. Weights stay in the mmap'ed checkpoint until a
// layer asks for them.
#include <filesystem>
#include <memory>
#include <mutex>
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
  // -> fp32 logits [B, T, vocab]. With `reuse`, the logits are written into that tensor's storage
  // (resized as needed) instead of a fresh allocation: eval calls this for every chunk of positions,
  // and the page faults of a fresh 100+ MB tensor each time cost more than the GEMM itself.
  at::Tensor lm_head(const at::Tensor& normed, at::Tensor* reuse = nullptr) const;

  at::Tensor logits(const at::Tensor& input_ids) const;
  ForwardTrace trace(const at::Tensor& input_ids, bool with_logits = true) const;

 private:
  ModelConfig config_;
  Architecture arch_;
  ComputeOptions options_;
  std::shared_ptr<const WeightSource> weights_;
  Norm final_norm_;
  // lm_head in the compute dtype when the checkpoint stores another and the copy is small enough
  // (converted on first use, shared by copies of this Model; thread-safe).
  struct HeadCache;
  std::shared_ptr<HeadCache> head_cache_;
};

}  // namespace qf::model
