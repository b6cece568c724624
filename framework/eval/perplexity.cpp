#include "eval/perplexity.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace qf::eval {
namespace {

// A model's decoder layers for the windows' forwards: the first ones kept loaded while they fit the
// byte budget, the others loaded for each use (so memory stays bounded for any model size).
class LayerStream {
 public:
  LayerStream(const model::Model& m, int64_t budget_bytes) : m_(m), budget_(budget_bytes) {}

  at::Tensor forward(int64_t i, const at::Tensor& h) {
    if (i < static_cast<int64_t>(kept_.size())) return kept_[i].forward(h);
    model::DecoderLayer layer = m_.load_layer(i);
    const at::Tensor out = layer.forward(h);
    if (i == static_cast<int64_t>(kept_.size()) && !full_) {
      const int64_t bytes = weight_bytes(layer);
      if (used_ + bytes <= budget_) {
        used_ += bytes;
        kept_.push_back(std::move(layer));
      } else {
        full_ = true;
      }
    }
    return out;
  }

 private:
  static int64_t weight_bytes(const model::DecoderLayer& layer) {
    int64_t bytes = 0;
    for (const auto& l : layer.linears()) bytes += layer.weight(l.name).numel() * layer.weight(l.name).element_size();
    return bytes;
  }

  const model::Model& m_;
  int64_t budget_;
  int64_t used_ = 0;
  bool full_ = false;
  std::vector<model::DecoderLayer> kept_;
};

// Final-normed hidden states [B, T, H] of one batch of windows.
at::Tensor final_hidden(const model::Model& m, LayerStream& layers, const at::Tensor& ids) {
  at::Tensor h = m.embed(ids);
  for (int64_t i = 0; i < m.num_layers(); ++i) h = layers.forward(i, h);
  return m.final_norm(h);
}

bool all_finite(const at::Tensor& t) { return at::isfinite(t).all().item<bool>(); }

// Window `w` (0-based) of `m` gave a non-finite NLL: re-run it stage by stage and name the first
// stage whose output is not finite. Only on this failure path, so normal windows pay nothing.
[[noreturn]] void report_non_finite(const model::Model& m, const char* which, const at::Tensor& ids, int64_t w,
                                    int64_t n, const PerplexityOptions& opt) {
  std::string where;
  at::Tensor h = m.embed(ids);
  if (!all_finite(h)) where = "the token embeddings";
  for (int64_t i = 0; where.empty() && i < m.num_layers(); ++i) {
    h = m.load_layer(i).forward(h);
    if (!all_finite(h)) {
      const std::string index = std::to_string(i);
      where = "the output of layer " + index + " (" + m.architecture().layer_prefix + index + ")";
    }
  }
  if (where.empty()) {
    h = m.final_norm(h);
    if (!all_finite(h)) where = "the output of the final norm";
  }
  if (where.empty()) {
    const int64_t L = ids.size(1), chunk = std::max<int64_t>(1, opt.logits_chunk_floats / m.config().vocab_size);
    for (int64_t p0 = 0; where.empty() && p0 < L; p0 += chunk)
      if (!all_finite(m.lm_head(h.narrow(1, p0, std::min(chunk, L - p0))))) where = "the lm_head logits";
  }
  if (where.empty()) where = "the scoring (every stage's output is finite)";
  const int64_t a = w * opt.seqlen, b = a + opt.seqlen - 1;
  throw Error(std::string(which) + ": window " + std::to_string(w + 1) + " of " + std::to_string(n) + " (tokens " +
              std::to_string(a) + ".." + std::to_string(b) + "): " + where +
              " became non-finite (NaN or Inf); look for NaN/Inf weights there, or, computing in bf16, an overflow "
              "(try --dtype fp32)");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double running_ppl(const std::vector<double>& nll) {
  if (nll.empty()) return 0;
  double s = 0;
  for (double x : nll) s += x;
  return std::exp(s / static_cast<double>(nll.size()));
}

}  // namespace

PerplexityResult evaluate_perplexity(const model::Model& model, const model::Model* base,
                                     const std::vector<int32_t>& tokens, const PerplexityOptions& opt,
                                     const ProgressFn& progress) {
  const int64_t L = opt.seqlen;
  if (L < 2) throw Error("--seqlen must be at least 2 (got " + std::to_string(L) + ")");
  if (opt.batch < 1) throw Error("--batch must be at least 1");
  const int64_t vocab = model.config().vocab_size;
  if (base && base->config().vocab_size != vocab)
    throw Error("the base model's vocabulary (" + std::to_string(base->config().vocab_size) +
                ") differs from the model's (" + std::to_string(vocab) + "): KL divergence needs the same tokens");
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  int64_t n = n_tokens / L;
  if (n == 0)
    throw Error("the text has " + std::to_string(n_tokens) + " tokens, fewer than one window of " + std::to_string(L) +
                " (lower --seqlen)");
  if (opt.max_windows > 0) n = std::min(n, opt.max_windows);

  PerplexityResult r;
  r.windows = n;
  r.seqlen = L;
  r.stream_tokens = n_tokens;
  r.scored = n * (L - 1);
  r.has_base = base != nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  const at::Tensor all = at::from_blob(const_cast<int32_t*>(tokens.data()), {n * L}, at::kInt).to(at::kLong);
  double kl_sum = 0, kl_max = 0;
  int64_t agree = 0;
  // Logits and log-probabilities reuse their storage across chunks and windows: a fresh [chunk, vocab]
  // tensor each time costs page faults (kernel time) comparable to the lm_head GEMM.
  at::Tensor logits_m, logits_b, lpm_buf = at::empty({0}), lpb_buf = at::empty({0});
  LayerStream model_layers(model, opt.resident_layer_bytes);
  std::optional<LayerStream> base_layers;
  if (base) base_layers.emplace(*base, opt.resident_layer_bytes);
  const auto log_probs = [](const at::Tensor& logits, at::Tensor& buf) {
    buf.resize_(logits.sizes());  // resized here: an out= argument of another shape draws a warning
    return at::log_softmax_out(buf, logits, -1);
  };

  for (int64_t w0 = 0; w0 < n; w0 += opt.batch) {
    const int64_t b = std::min(opt.batch, n - w0);
    const at::Tensor ids = all.narrow(0, w0 * L, b * L).view({b, L});
    const at::Tensor hm = final_hidden(model, model_layers, ids);
    const at::Tensor hb = base ? final_hidden(*base, *base_layers, ids) : at::Tensor();
    const int64_t chunk = std::max<int64_t>(1, std::min(L - 1, opt.logits_chunk_floats / std::max<int64_t>(1, b * vocab)));
    at::Tensor nll = at::zeros({b}, at::kDouble), base_nll = at::zeros({b}, at::kDouble);
    for (int64_t p0 = 0; p0 < L - 1; p0 += chunk) {
      const int64_t len = std::min(chunk, L - 1 - p0);
      const at::Tensor target = ids.narrow(1, p0 + 1, len).unsqueeze(-1);  // [b, len, 1]
      const at::Tensor lpm = log_probs(model.lm_head(hm.narrow(1, p0, len), &logits_m), lpm_buf);  // fp32 [b, len, V]
      nll -= lpm.gather(-1, target).squeeze(-1).to(at::kDouble).sum(1);
      if (base) {
        const at::Tensor lpb = log_probs(base->lm_head(hb.narrow(1, p0, len), &logits_b), lpb_buf);
        base_nll -= lpb.gather(-1, target).squeeze(-1).to(at::kDouble).sum(1);
        const at::Tensor kl = (lpb.exp() * (lpb - lpm)).sum(-1);  // [b, len]
        kl_sum += kl.to(at::kDouble).sum().item<double>();
        kl_max = std::max(kl_max, static_cast<double>(kl.max().item<float>()));
        agree += (lpb.argmax(-1) == lpm.argmax(-1)).sum().item<int64_t>();
      }
    }
    nll /= static_cast<double>(L - 1);
    base_nll /= static_cast<double>(L - 1);
    const auto check_finite = [&](const model::Model* m, const at::Tensor& scores, const char* which) {
      if (!m) return;
      const at::Tensor bad = at::isfinite(scores).logical_not().nonzero();
      if (bad.numel() == 0) return;
      const int64_t i = bad[0][0].item<int64_t>();
      report_non_finite(*m, which, ids.narrow(0, i, 1), w0 + i, n, opt);
    };
    check_finite(&model, nll, "the model");
    check_finite(base, base_nll, "the base model (--base)");
    for (int64_t i = 0; i < b; ++i) {
      r.window_nll.push_back(nll[i].item<double>());
      if (base) r.base_window_nll.push_back(base_nll[i].item<double>());
    }
    if (progress) {
      PerplexityProgress p;
      p.done = w0 + b;
      p.total = n;
      p.seconds = seconds_since(t0);
      p.ppl = running_ppl(r.window_nll);
      p.base_ppl = running_ppl(r.base_window_nll);
      progress(p);
    }
  }
  double s = 0;
  for (double x : r.window_nll) s += x;
  r.mean_nll = s / static_cast<double>(n);
  r.ppl = std::exp(r.mean_nll);
  if (base) {
    double sb = 0;
    for (double x : r.base_window_nll) sb += x;
    r.base_mean_nll = sb / static_cast<double>(n);
    r.base_ppl = std::exp(r.base_mean_nll);
    r.kl_mean = kl_sum / static_cast<double>(r.scored);
    r.kl_max = kl_max;
    r.top1_agreement = static_cast<double>(agree) / static_cast<double>(r.scored);
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace qf::eval
