#include "model/model.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "common/error.hpp"

namespace qf::model {
namespace {

// Rows of lm_head converted per step when the checkpoint dtype differs from the compute dtype and
// the converted head is too large to keep, so such a head never exists twice in memory.
constexpr int64_t kHeadChunk = 16384;
// Largest converted lm_head kept for the life of the model (Qwen2.5's 151936 x 896 in fp32: 545 MB).
// Below it, converting the head once instead of on every call is the larger part of eval's time.
constexpr int64_t kHeadCacheBytes = int64_t{2} << 30;

}  // namespace

struct Model::HeadCache {
  std::once_flag once;
  at::Tensor weight;  // undefined: not kept (same dtype already, or too large)
};

Model Model::open(const std::filesystem::path& dir, const ComputeOptions& options) {
  ModelConfig config = load_config(dir);
  return Model(std::move(config), std::make_shared<CheckpointSource>(st::Checkpoint::open(dir)), options);
}

Model::Model(ModelConfig config, std::shared_ptr<const WeightSource> weights, const ComputeOptions& options)
    : config_(std::move(config)),
      arch_(find_architecture(config_.model_type)),
      options_(options),
      weights_(std::move(weights)),
      head_cache_(std::make_shared<HeadCache>()) {
  if (options_.dtype != at::kFloat && options_.dtype != at::kBFloat16)
    throw Error("compute dtype must be fp32 or bf16");
  // facebook/opt-* files name tensors "decoder.*" (saved from OPTModel), ours "model.decoder.*".
  const std::string fix = "model.";
  if (arch_.embed_tokens.rfind(fix, 0) == 0 && !weights_->contains(arch_.embed_tokens) &&
      weights_->contains(arch_.embed_tokens.substr(fix.size()))) {
    for (std::string* s : {&arch_.layer_prefix, &arch_.embed_tokens, &arch_.embed_positions, &arch_.final_norm})
      if (s->rfind(fix, 0) == 0) s->erase(0, fix.size());
  }
  final_norm_ = Norm::load(*weights_, arch_.final_norm, arch_.norm, config_.hidden_size, config_.norm_eps, options_.dtype);
}

at::Tensor Model::embed(const at::Tensor& input_ids) const {
  if (input_ids.dim() != 2) throw Error("input_ids must be [batch, seq]");
  at::Tensor ids = input_ids.to(at::kLong);
  const int64_t t = ids.size(1);
  if (ids.numel() && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= config_.vocab_size))
    throw Error("input_ids out of range [0, " + std::to_string(config_.vocab_size) + ")");
  // Gather rows from the stored table, then convert only those rows.
  at::Tensor table = weights_->borrow(arch_.embed_tokens);
  at::Tensor h = table.index_select(0, ids.reshape(-1)).to(options_.dtype).view({ids.size(0), t, -1});
  if (!arch_.embed_positions.empty()) {
    // OPT: positions 0..T-1 (no padding) read rows offset..offset+T-1.
    at::Tensor pos = weights_->borrow(arch_.embed_positions);
    if (arch_.position_offset + t > pos.size(0))
      throw Error("sequence of " + std::to_string(t) + " tokens exceeds the learned positions");
    h = h + pos.narrow(0, arch_.position_offset, t).to(options_.dtype).unsqueeze(0);
  }
  return h;
}

DecoderLayer Model::load_layer(int64_t index) const {
  QF_ASSERT(index >= 0 && index < config_.num_layers, "layer index out of range");
  return DecoderLayer(config_, arch_, *weights_, index, options_);
}

at::Tensor Model::final_norm(const at::Tensor& hidden) const { return final_norm_(hidden.to(options_.dtype)); }

at::Tensor Model::lm_head(const at::Tensor& normed, at::Tensor* reuse) const {
  const bool own = weights_->contains(arch_.lm_head);
  if (!own && !config_.tie_word_embeddings)
    throw Error("tensor '" + arch_.lm_head + "' not found and tie_word_embeddings is false");
  at::Tensor w = weights_->borrow(own ? arch_.lm_head : arch_.embed_tokens);  // read-only view
  std::call_once(head_cache_->once, [&] {
    if (w.scalar_type() != options_.dtype && w.numel() * at::elementSize(options_.dtype) <= kHeadCacheBytes)
      head_cache_->weight = w.to(options_.dtype);
  });
  if (head_cache_->weight.defined()) w = head_cache_->weight;

  const at::Tensor x = normed.to(options_.dtype).reshape({-1, normed.size(-1)});
  std::vector<int64_t> shape = normed.sizes().vec();
  shape.back() = w.size(0);
  at::Tensor out = reuse && reuse->defined() ? *reuse : at::empty({0}, at::kFloat);
  out.resize_({x.size(0), w.size(0)});
  if (reuse) *reuse = out;
  for (int64_t r = 0; r < w.size(0); r += kHeadChunk) {
    const int64_t n = std::min(kHeadChunk, w.size(0) - r);
    const at::Tensor part = w.scalar_type() == options_.dtype ? w.narrow(0, r, n) : w.narrow(0, r, n).to(options_.dtype);
    at::Tensor dst = out.narrow(1, r, n);  // row stride = vocab: a valid BLAS output, written in place
    if (options_.dtype == at::kFloat) at::mm_out(dst, x, part.t());
    else dst.copy_(at::mm(x, part.t()));
  }
  return out.view(shape);
}

ForwardTrace Model::trace(const at::Tensor& input_ids, bool with_logits) const {
  ForwardTrace tr;
  at::Tensor h = embed(input_ids);
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    h = load_layer(i).forward(h);  // the layer is freed at the end of this statement
    tr.layer_outputs.push_back(h);
  }
  tr.final_norm = final_norm(h);
  if (with_logits) tr.logits = lm_head(tr.final_norm);
  return tr;
}

at::Tensor Model::logits(const at::Tensor& input_ids) const {
  at::Tensor h = embed(input_ids);
  for (int64_t i = 0; i < config_.num_layers; ++i) h = load_layer(i).forward(h);
  return lm_head(final_norm(h));
}

}  // namespace qf::model
