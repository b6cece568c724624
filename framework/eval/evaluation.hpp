#pragma once
// One `quantforge eval` run without the command line: open the model (and the base), find the
// tokenizer, read and tokenize the text, cap seqlen, score the windows. Progress and what was
// chosen go to the spdlog log; the caller prints the result.
#include <optional>
#include <string>

#include "eval/eval_tokens.hpp"
#include "eval/model_open.hpp"
#include "eval/perplexity.hpp"
#include "model/compute.hpp"

namespace qf::eval {

struct EvaluationSpec {
  std::string model;         // a model folder or a weights index inside one
  std::string variant;       // in-place variant of model, e.g. "AWQ"
  std::optional<std::string> base;  // base model: adds its ppl, KL(base||model), top-1 agreement
  std::string base_variant;
  std::string dataset = "wikitext2";  // "wikitext2" | "bundled" | a text file
  std::string dataset_path;           // searched first for named datasets
  int64_t seqlen = 2048;              // capped at max_position_embeddings
  int64_t max_windows = 0;            // 0: all
  int64_t batch = 1;
  model::ComputeOptions compute;
  std::string compute_name = "fp32";  // the dtype as the user named it, for the log
  // Choose `compute.dtype` from the evaluated model's checkpoint dtype and the CPU (bf16 for 16-bit
  // checkpoints on AMX/AVX512-bf16 CPUs, else fp32), as `quantize` does; the choice and why go to
  // EvaluationResult::compute.
  bool compute_auto = false;
  SpecialTokens special = SpecialTokens::Tokenizer;
};

struct EvaluationResult {
  PerplexityResult perplexity;
  EvalModel model;
  std::optional<EvalModel> base;
  std::string dataset;  // as given
  std::string special;  // which special tokens the stream holds
  std::string compute;  // the compute dtype used, and why when chosen automatically
};

// qf::Error (or a subclass) for anything the user can fix: a missing model, tokenizer or dataset,
// too short a text, a window that became non-finite.
EvaluationResult run_evaluation(const EvaluationSpec& spec);

}  // namespace qf::eval
