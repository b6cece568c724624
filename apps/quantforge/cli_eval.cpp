// `quantforge eval MODEL [...]`: perplexity on non-overlapping windows, and with --base the KL
// divergence and top-1 agreement against the base model (framework/eval).
#include <ATen/Parallel.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.hpp"
#include "common/compute_dtype.hpp"
#include "common/error.hpp"
#include "eval/eval_text.hpp"
#include "eval/eval_tokens.hpp"
#include "eval/model_open.hpp"
#include "eval/perplexity.hpp"
#include "model/model.hpp"
#include "runtime_setup.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace qf::cli {
namespace {

void setup_eval_logging(bool verbose) {
  auto logger = std::make_shared<spdlog::logger>("quantforge", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  spdlog::set_default_logger(logger);
}

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

std::string fixed(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string pad(const std::string& s, size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

void print_table(const eval::PerplexityResult& r, const eval::EvalModel& m, const eval::EvalModel* base,
                 const std::string& dataset, const std::string& special) {
  const std::string tokens = std::to_string(r.windows * r.seqlen);
  std::vector<std::vector<std::string>> rows = {{"model", "windows", "tokens", "ppl"}};
  rows.push_back({m.label(), std::to_string(r.windows), tokens, fixed(r.ppl, 4)});
  if (base) rows.push_back({base->label() + " (base)", std::to_string(r.windows), tokens, fixed(r.base_ppl, 4)});
  size_t w0 = 0;
  for (const auto& row : rows) w0 = std::max(w0, row[0].size());
  std::cout << "\nperplexity on " << dataset << ": " << r.windows << " windows x " << r.seqlen << " tokens ("
            << r.stream_tokens << " tokens in the text), ppl = exp(mean window NLL)\n"
            << "special tokens: " << special << "\n";
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
      "next-token predictions in fp32; ppl = exp(mean window NLL). MODEL is a model folder\n"
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
      "dtype", po::value<std::string>()->default_value("fp32"), "compute dtype: fp32 | bf16")(
      "threads", po::value<int>()->default_value(0), "compute threads (0: all cores)")(
      "variant", po::value<std::string>()->default_value(""), "in-place variant of MODEL, e.g. AWQ")(
      "base-variant", po::value<std::string>()->default_value(""), "in-place variant of --base")(
      "add-bos", po::bool_switch(), "exactly one BOS token before the text, nothing else (whatever the tokenizer adds)")(
      "no-bos", po::bool_switch(), "no special tokens at all (encode without the post-processor)")(
      "verbose,v", po::bool_switch(), "debug logging");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  if (!vm.count("model")) throw UsageError("eval needs the model: quantforge eval MODEL [--base FP_MODEL] [--dataset ...]");
  model::ComputeOptions compute;
  const std::string dtype = vm["dtype"].as<std::string>();
  const std::optional<ComputeDtype> parsed = parse_compute_dtype(dtype);
  if (!parsed || *parsed == ComputeDtype::Auto) throw UsageError("--dtype must be fp32 or bf16, got '" + dtype + "'");
  compute.dtype = model::parse_compute_dtype(dtype);
  int64_t seqlen = vm["seqlen"].as<int64_t>();
  if (seqlen < 2) throw UsageError("--seqlen must be at least 2");
  if (vm["max-windows"].as<int64_t>() < 0) throw UsageError("--max-windows must be >= 0");
  if (vm["batch"].as<int64_t>() < 1) throw UsageError("--batch must be at least 1");
  if (vm["add-bos"].as<bool>() && vm["no-bos"].as<bool>()) throw UsageError("--add-bos and --no-bos exclude each other");
  const eval::SpecialTokens special = vm["add-bos"].as<bool>()  ? eval::SpecialTokens::Bos
                                      : vm["no-bos"].as<bool>() ? eval::SpecialTokens::None
                                                                : eval::SpecialTokens::Tokenizer;

  setup_eval_logging(vm["verbose"].as<bool>());
  configure_threads(vm["threads"].as<int>());
  warn_if_reference_blas();
  try {
    const eval::EvalModel m = eval::open_model_for_eval(vm["model"].as<std::string>(), vm["variant"].as<std::string>());
    spdlog::info("model {}", m.summary());
    if (m.variant.empty() && !m.variants.empty())
      spdlog::info("this folder also holds in-place variant(s) {}: pass --variant NAME to evaluate one",
                   m.variants.front() + (m.variants.size() > 1 ? ", ..." : ""));
    std::optional<eval::EvalModel> b;
    if (vm.count("base")) {
      b = eval::open_model_for_eval(vm["base"].as<std::string>(), vm["base-variant"].as<std::string>());
      spdlog::info("base  {}", b->summary());
    }
    const fs::path tok_dir = !m.tokenizer_dir.empty() ? m.tokenizer_dir : b ? b->tokenizer_dir : fs::path();
    if (tok_dir.empty())
      throw Error("no tokenizer.json in " + m.dir.string() + " or its parent folder" + (b ? " nor beside --base" : ""));
    const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(tok_dir);

    int64_t max_pos = m.config.max_position_embeddings;
    if (b && b->config.max_position_embeddings > 0)
      max_pos = max_pos > 0 ? std::min(max_pos, b->config.max_position_embeddings) : b->config.max_position_embeddings;
    if (max_pos > 0 && seqlen > max_pos) {
      spdlog::warn("--seqlen {} exceeds max_position_embeddings {}: using {}", seqlen, max_pos, max_pos);
      seqlen = max_pos;
    }

    eval::EvalTextSpec spec;
    spec.dataset = vm["dataset"].as<std::string>();
    spec.dataset_path = vm["dataset-path"].as<std::string>();
    const eval::EvalText text = eval::load_eval_text(spec);
    const auto t0 = std::chrono::steady_clock::now();
    const eval::EvalTokens stream = eval::tokenize_for_eval(tokenizer, text.text, special);
    const std::vector<int32_t>& tokens = stream.ids;
    const double tok_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const std::string& w : stream.warnings) spdlog::warn("{}", w);
    spdlog::info("text: {}; {} bytes -> {} tokens in {:.2f}s", text.description, text.text.size(), tokens.size(), tok_s);
    spdlog::info("special tokens: {}", stream.special);

    const model::Model evaluated(m.config, m.weights, compute);
    std::optional<model::Model> base_model;
    if (b) base_model.emplace(b->config, b->weights, compute);

    eval::PerplexityOptions opt;
    opt.seqlen = seqlen;
    opt.max_windows = vm["max-windows"].as<int64_t>();
    opt.batch = vm["batch"].as<int64_t>();
    const int64_t windows = static_cast<int64_t>(tokens.size()) / seqlen;
    spdlog::info("{} windows of {} tokens{}, compute {}, {} threads", windows, seqlen,
                 opt.max_windows > 0 && opt.max_windows < windows ? " (evaluating " + std::to_string(opt.max_windows) + ")" : "",
                 dtype, at::get_num_threads());
    double last_log = -1e9;
    const auto progress = [&](const eval::PerplexityProgress& p) {
      if (p.done != p.total && p.seconds - last_log < 5.0 && p.done != 1) return;
      last_log = p.seconds;
      const double rate = p.done / std::max(p.seconds, 1e-9);
      spdlog::info("window {}/{} ({:.0f}%): ppl {:.4f}{}, {:.2f} windows/s, elapsed {}, ETA {}", p.done, p.total,
                   100.0 * p.done / p.total, p.ppl, b ? fmt::format(" (base {:.4f})", p.base_ppl) : std::string(), rate,
                   duration(p.seconds), duration((p.total - p.done) / std::max(rate, 1e-9)));
    };
    const eval::PerplexityResult r =
        eval::evaluate_perplexity(evaluated, base_model ? &*base_model : nullptr, tokens, opt, progress);
    print_table(r, m, b ? &*b : nullptr, spec.dataset, stream.special);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace qf::cli
