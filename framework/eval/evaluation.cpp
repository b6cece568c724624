#include "eval/evaluation.hpp"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/error.hpp"
#include "eval/eval_text.hpp"
#include "model/model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace qf::eval {
namespace {

// "42s", "3m05s", "1h02m": elapsed time and ETA in the progress log.
std::string duration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
  }
  return buf;
}

// Longer windows than the model (or the base) was trained for would measure something else.
int64_t capped_seqlen(int64_t seqlen, const EvalModel& m, const std::optional<EvalModel>& b) {
  int64_t max_pos = m.config.max_position_embeddings;
  if (b && b->config.max_position_embeddings > 0)
    max_pos = max_pos > 0 ? std::min(max_pos, b->config.max_position_embeddings) : b->config.max_position_embeddings;
  if (max_pos > 0 && seqlen > max_pos) {
    spdlog::warn("--seqlen {} exceeds max_position_embeddings {}: using {}", seqlen, max_pos, max_pos);
    return max_pos;
  }
  return seqlen;
}

}  // namespace

EvaluationResult run_evaluation(const EvaluationSpec& spec) {
  EvaluationResult out{PerplexityResult{}, open_model_for_eval(spec.model, spec.variant), std::nullopt, spec.dataset, "", ""};
  const EvalModel& m = out.model;
  spdlog::info("model {}", m.summary());
  if (m.variant.empty() && !m.variants.empty())
    spdlog::info("this folder also holds in-place variant(s) {}: pass --variant NAME to evaluate one",
                 m.variants.front() + (m.variants.size() > 1 ? ", ..." : ""));
  std::optional<EvalModel>& b = out.base;
  if (spec.base) {
    b = open_model_for_eval(*spec.base, spec.base_variant);
    spdlog::info("base  {}", b->summary());
  }
  const fs::path tok_dir = !m.tokenizer_dir.empty() ? m.tokenizer_dir : b ? b->tokenizer_dir : fs::path();
  if (tok_dir.empty())
    throw Error("no tokenizer.json in " + m.dir.string() + " or its parent folder" + (b ? " nor beside --base" : ""));
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(tok_dir);
  const int64_t seqlen = capped_seqlen(spec.seqlen, m, b);

  EvalTextSpec text_spec;
  text_spec.dataset = spec.dataset;
  text_spec.dataset_path = spec.dataset_path;
  const EvalText text = load_eval_text(text_spec);
  const auto t0 = std::chrono::steady_clock::now();
  const EvalTokens stream = tokenize_for_eval(tokenizer, text.text, spec.special);
  const std::vector<int32_t>& tokens = stream.ids;
  const double tok_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const std::string& w : stream.warnings) spdlog::warn("{}", w);
  spdlog::info("text: {}; {} bytes -> {} tokens in {:.2f}s", text.description, text.text.size(), tokens.size(), tok_s);
  spdlog::info("special tokens: {}", stream.special);
  out.special = stream.special;

  model::ComputeOptions compute = spec.compute;
  out.compute = spec.compute_name;
  if (spec.compute_auto) {
    const model::AutoDtype chosen = model::choose_compute_dtype("auto", m.config.dtype);
    compute.dtype = chosen.dtype;
    out.compute = std::string(chosen.dtype == at::kBFloat16 ? "bf16" : "fp32") + " (" + chosen.why +
                  "; --dtype fp32 for the reference protocol)";
  }
  const model::Model evaluated(m.config, m.weights, compute);
  std::optional<model::Model> base_model;
  if (b) base_model.emplace(b->config, b->weights, compute);

  PerplexityOptions opt;
  opt.seqlen = seqlen;
  opt.max_windows = spec.max_windows;
  opt.batch = spec.batch;
  const int64_t windows = static_cast<int64_t>(tokens.size()) / seqlen;
  spdlog::info("{} windows of {} tokens{}, compute {}, {} threads", windows, seqlen,
               opt.max_windows > 0 && opt.max_windows < windows ? " (evaluating " + std::to_string(opt.max_windows) + ")" : "",
               out.compute, at::get_num_threads());
  double last_log = -1e9;
  const bool with_base = b.has_value();
  const auto progress = [&](const PerplexityProgress& p) {
    if (p.done != p.total && p.seconds - last_log < 5.0 && p.done != 1) return;
    last_log = p.seconds;
    const double rate = p.done / std::max(p.seconds, 1e-9);
    spdlog::info("window {}/{} ({:.0f}%): ppl {:.4f}{}, {:.2f} windows/s, elapsed {}, ETA {}", p.done, p.total,
                 100.0 * p.done / p.total, p.ppl, with_base ? fmt::format(" (base {:.4f})", p.base_ppl) : std::string(),
                 rate, duration(p.seconds), duration((p.total - p.done) / std::max(rate, 1e-9)));
  };
  out.perplexity = evaluate_perplexity(evaluated, base_model ? &*base_model : nullptr, tokens, opt, progress);
  return out;
}

}  // namespace qf::eval
