// `quantforge eval MODEL [...]`: perplexity on non-overlapping windows, and with --base the KL
// divergence and top-1 agreement against the base model. Parses the arguments and prints the
// table; the run itself is eval::run_evaluation (framework/eval/evaluation.hpp).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.hpp"
#include "common/compute_dtype.hpp"
#include "common/error.hpp"
#include "eval/evaluation.hpp"
#include "runtime_setup.hpp"

namespace qf::cli {
namespace {

void setup_eval_logging(bool verbose) {
  auto logger = std::make_shared<spdlog::logger>("quantforge", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
}

std::string fixed(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string pad(const std::string& s, size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

void print_table(const eval::EvaluationResult& result) {
  const eval::PerplexityResult& r = result.perplexity;
  const eval::EvalModel& m = result.model;
  const eval::EvalModel* base = result.base ? &*result.base : nullptr;
  const std::string& dataset = result.dataset;
  const std::string& special = result.special;
  const std::string tokens = std::to_string(r.windows * r.seqlen);
  std::vector<std::vector<std::string>> rows = {{"model", "windows", "tokens", "ppl"}};
  rows.push_back({m.label(), std::to_string(r.windows), tokens, fixed(r.ppl, 4)});
  if (base) rows.push_back({base->label() + " (base)", std::to_string(r.windows), tokens, fixed(r.base_ppl, 4)});
  size_t w0 = 0;
  for (const auto& row : rows) w0 = std::max(w0, row[0].size());
  std::cout << "\nperplexity on " << dataset << ": " << r.windows << " windows x " << r.seqlen << " tokens ("
            << r.stream_tokens << " tokens in the text), ppl = exp(mean window NLL)\n"
            << "special tokens: " << special << "\n"
            << "compute: " << result.compute << "\n";
  for (const auto& row : rows)
    std::cout << pad(row[0], w0) << "  " << pad(row[1], 7, true) << "  " << pad(row[2], 9, true) << "  "
              << pad(row[3], 12, true) << "\n";
  if (base) {
    std::cout << "ppl ratio model/base: " << fixed(r.ppl / r.base_ppl, 5) << " (ln " << fixed(r.mean_nll - r.base_mean_nll, 6)
              << ")\n"
              << "KL(base||model): mean " << fixed(r.kl_mean, 6) << " nats/token, max " << fixed(r.kl_max, 4)
              << " over " << r.scored << " predictions\n"
              << "top-1 agreement: " << fixed(100.0 * r.top1_agreement, 3) << " %\n";
  }
  std::cout << "time: " << fixed(r.seconds, 1) << " s, " << fixed(r.windows / std::max(r.seconds, 1e-9), 2)
            << " windows/s, " << fixed(static_cast<double>(r.windows * r.seqlen) / std::max(r.seconds, 1e-9), 0)
            << " tokens/s" << (base ? " (both models)" : "") << "\n";
}

}  // namespace

int run_eval(const std::vector<std::string>& args) {
  po::options_description desc(
      "quantforge eval MODEL [options]\n"
      "Perplexity on non-overlapping windows: the text is tokenized once as transformers' tokenizer(text) does\n"
      "(tokenizer.json's post-processor: one BOS at the start for Llama/Mistral-style tokenizers, none for Qwen2;\n"
      "--add-bos / --no-bos force or drop it), cut into tokens/seqlen windows, each scored on its seqlen-1\n"
      "next-token predictions (log-softmax in fp32); ppl = exp(mean window NLL). MODEL is a model folder\n"
      "(fp16/bf16/fp32, or GPTQ v1/v2 / AWQ GEMM, dequantized on load), an output subfolder like GPTQ_8bit_CPU,\n"
      "or an in-place variant (--variant AWQ, or the path of model-AWQ.safetensors.index.json).\noptions");
  desc.add_options()("help,h", "this help")("model", po::value<std::string>(), "model folder or weights index")(
      "base", po::value<std::string>(), "base (e.g. unquantized) model: adds its ppl, KL(base||model), top-1 agreement")(
      "dataset", po::value<std::string>()->default_value("wikitext2"),
      "wikitext2 (wiki.test.raw), bundled (public-domain text), or a text file")(
      "dataset-path", po::value<std::string>()->default_value(""), "folder searched first for named datasets")(
      "seqlen", po::value<int64_t>()->default_value(2048), "window length (capped at max_position_embeddings)")(
      "max-windows", po::value<int64_t>()->default_value(0), "evaluate at most N windows (0: all)")(
      "batch", po::value<int64_t>()->default_value(1), "windows per forward")(
      "dtype", po::value<std::string>()->default_value("auto"),
      "compute dtype: auto (bf16 for 16-bit checkpoints on AMX/AVX512-bf16 CPUs, else fp32) | fp32 | bf16")(
      "threads", po::value<int>()->default_value(0), "compute threads (0: all cores)")(
      "variant", po::value<std::string>()->default_value(""), "in-place variant of MODEL, e.g. AWQ")(
      "base-variant", po::value<std::string>()->default_value(""), "in-place variant of --base")(
      "add-bos", po::bool_switch(), "exactly one BOS token before the text, nothing else (whatever the tokenizer adds)")(
      "no-bos", po::bool_switch(), "no special tokens at all (encode without the post-processor)")(
      "verbose,v", po::bool_switch(), "debug logging");
  po::variables_map vm;
  if (!parse_model_command(args, desc, vm, "eval needs the model: quantforge eval MODEL [--base FP_MODEL] [--dataset ...]")) return kExitOk;
  const std::string dtype = vm["dtype"].as<std::string>();
  const std::optional<ComputeDtype> parsed = parse_compute_dtype(dtype);
  if (!parsed) throw UsageError("--dtype must be auto, fp32 or bf16, got '" + dtype + "'");
  if (vm["seqlen"].as<int64_t>() < 2) throw UsageError("--seqlen must be at least 2");
  if (vm["max-windows"].as<int64_t>() < 0) throw UsageError("--max-windows must be >= 0");
  if (vm["batch"].as<int64_t>() < 1) throw UsageError("--batch must be at least 1");
  if (vm["add-bos"].as<bool>() && vm["no-bos"].as<bool>()) throw UsageError("--add-bos and --no-bos exclude each other");
  const eval::SpecialTokens special = vm["add-bos"].as<bool>()  ? eval::SpecialTokens::Bos
                                      : vm["no-bos"].as<bool>() ? eval::SpecialTokens::None
                                                                : eval::SpecialTokens::Tokenizer;

  eval::EvaluationSpec spec;
  spec.model = vm["model"].as<std::string>();
  spec.variant = vm["variant"].as<std::string>();
  if (vm.count("base")) spec.base = vm["base"].as<std::string>();
  spec.base_variant = vm["base-variant"].as<std::string>();
  spec.dataset = vm["dataset"].as<std::string>();
  spec.dataset_path = vm["dataset-path"].as<std::string>();
  spec.seqlen = vm["seqlen"].as<int64_t>();
  spec.max_windows = vm["max-windows"].as<int64_t>();
  spec.batch = vm["batch"].as<int64_t>();
  spec.compute_auto = *parsed == ComputeDtype::Auto;
  if (!spec.compute_auto) spec.compute.dtype = model::parse_compute_dtype(dtype);
  spec.compute_name = dtype;
  spec.special = special;

  setup_eval_logging(vm["verbose"].as<bool>());
  configure_threads(vm["threads"].as<int>());
  warn_if_reference_blas();
  try {
    print_table(eval::run_evaluation(spec));
  } catch (const Error& e) {
    spdlog::error("{}", user_message(e));
    return kExitError;
  }
  return kExitOk;
}

}  // namespace qf::cli
