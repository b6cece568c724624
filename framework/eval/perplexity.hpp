#pragma once
// Perplexity over non-overlapping windows (docs/gptq.md#perplexity-protocol and tests/data/goldens/perplexity.json):
//   the token stream is cut into N = tokens / seqlen windows (tail dropped, no BOS inserted per
//   window); nll_i = mean over the seqlen-1 shifted positions of -log softmax(logits)[next token],
//   in fp32 from fp32 logits; ppl = exp(mean_i nll_i).
// With a base model, the same windows also run through it and, per scored position,
//   KL(base || model) = sum_v p_base(v) (log p_base(v) - log p_model(v)) and whether the argmaxes
//   agree, as llama.cpp's perplexity tool reports them (it scores only the second half of each
//   window; here every scored position counts, like the perplexity itself).
// Windows run one batch at a time, each model streaming its decoder layers (one resident at a
// time); logits exist for a chunk of positions at a time, so memory does not grow with N.
#include <cstdint>
#include <functional>
#include <vector>

#include "model/model.hpp"

namespace qf::eval {

struct PerplexityOptions {
  int64_t seqlen = 2048;
  int64_t max_windows = 0;  // 0: all
  int64_t batch = 1;        // windows per forward
  // Upper bound on floats in one logits chunk (batch x positions x vocab); 32M = 128 MB.
  int64_t logits_chunk_floats = int64_t{32} << 20;
  // Decoder layers stay loaded across windows while their weights fit this many bytes (per model);
  // the rest are loaded for each batch of windows. Loading copies a layer's weights into the compute
  // dtype (and dequantizes packed Linears), which for small models costs as much as the forward.
  int64_t resident_layer_bytes = int64_t{4} << 30;
};

struct PerplexityProgress {
  int64_t done = 0;   // windows finished
  int64_t total = 0;
  double seconds = 0;
  double ppl = 0;     // over the windows done so far
  double base_ppl = 0;
};

struct PerplexityResult {
  int64_t windows = 0;
  int64_t seqlen = 0;
  int64_t stream_tokens = 0;  // tokens of the text
  int64_t scored = 0;         // predictions scored: windows x (seqlen - 1)
  double mean_nll = 0;
  double ppl = 0;
  std::vector<double> window_nll;
  double seconds = 0;
  // With a base model:
  bool has_base = false;
  double base_mean_nll = 0;
  double base_ppl = 0;
  std::vector<double> base_window_nll;
  double kl_mean = 0;         // mean KL(base || model) per scored position, nats
  double kl_max = 0;
  double top1_agreement = 0;  // fraction of positions whose argmax agrees
};

using ProgressFn = std::function<void(const PerplexityProgress&)>;

// `base` may be null. Models must share the vocabulary size. qf::Error when the stream holds fewer
// than seqlen tokens, seqlen < 2, or ids fall outside the vocabulary; and when a window's NLL is not
// finite: "the model: window N of M (tokens a..b): the output of layer L (model.layers.L) became
// non-finite ...", the first stage (embeddings, layer, final norm, lm_head) found by re-running it.
PerplexityResult evaluate_perplexity(const model::Model& model, const model::Model* base,
                                     const std::vector<int32_t>& tokens, const PerplexityOptions& options,
                                     const ProgressFn& progress = {});

}  // namespace qf::eval
