// `quantforge quantize MODEL_DIR [...]`
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "cli_common.hpp"
#include "common/error.hpp"
#include "pipeline/quantize.hpp"
#include "runtime_setup.hpp"

namespace fs = std::filesystem;

namespace qf::cli {
namespace {

std::atomic<bool> g_cancel{false};
extern "C" void on_interrupt(int) { g_cancel.store(true); }

std::string human_bytes(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(n) / 1e6);
  return buf;
}

void setup_logging(const fs::path& log_file, bool verbose) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!log_file.empty()) {
    std::error_code ec;
    fs::create_directories(log_file.parent_path(), ec);
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string(), true));
  }
  auto logger = std::make_shared<spdlog::logger>("quantforge", sinks.begin(), sinks.end());
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
  // Lines reach the file as they happen, so a long run can be followed with `tail -f` (and a
  // killed one leaves its progress behind); there are few enough that flushing each costs nothing.
  logger->flush_on(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace

int run_quantize(const std::vector<std::string>& args) {
  po::options_description desc("quantforge quantize MODEL_DIR [options]");
  desc.add_options()("help,h", "this help")("model", po::value<std::string>(), "model folder")(
      "output", po::value<std::string>(), "write a standalone model folder here")(
      "threads", po::value<int>()->default_value(0), "compute threads (0: all cores)")(
      "log-file", po::value<std::string>(), "log file (default: quantize.log beside the output)")(
      "verbose,v", po::bool_switch(), "debug logging");
  add_recipe_options(desc);
  add_plugin_options(desc);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kExitOk;
  }
  if (!vm.count("model")) throw UsageError("quantize needs the model folder: quantforge quantize MODEL_DIR");

  setup_logging({}, vm["verbose"].as<bool>());
  host::PluginRegistry registry;
  load_plugins(vm, registry);
  pipeline::QuantizeRequest request;
  request.model_dir = vm["model"].as<std::string>();
  request.recipe = resolve_recipe(vm, registry);
  if (vm.count("output")) request.output = fs::path(vm["output"].as<std::string>());
  request.cancel = &g_cancel;

  const fs::path destination = pipeline::planned_destination(request, registry);
  setup_logging(vm.count("log-file") ? fs::path(vm["log-file"].as<std::string>()) : destination / "quantize.log",
                vm["verbose"].as<bool>());
  configure_threads(vm["threads"].as<int>());
  warn_if_reference_blas();
  spdlog::info("recipe '{}' ({}), method plugin '{}'", request.recipe.name, request.recipe.source_file,
               request.recipe.method.plugin);
  std::signal(SIGINT, on_interrupt);
  try {
    const pipeline::QuantizeSummary s = pipeline::quantize(request, registry);
    spdlog::info("done in {:.1f}s: {} layers, weights {} -> {}", s.seconds, s.layers, human_bytes(s.input_weight_bytes),
                 human_bytes(s.output_weight_bytes));
    for (const auto& f : s.files) spdlog::info("wrote {}", f.string());
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    spdlog::error("nothing was written to {}; the original model files are untouched", destination.string());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace qf::cli
