// Running one quantize or convert job from the command line.
#include "cli_job.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <memory>

#include "common/error.hpp"
#include "host/output_manifest.hpp"
#include "interrupts.hpp"
#include "runtime_setup.hpp"

namespace fs = std::filesystem;

namespace qf::cli {
namespace {

std::string human_bytes(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(n) / 1e6);
  return buf;
}

// `truncate`: a staged log is new; a --log-file of the user's keeps what earlier runs wrote.
// `rank`: a distributed run's rank, named on every line (their consoles interleave), or -1.
void setup_logging(const fs::path& log_file, bool verbose, bool truncate = true, int rank = -1) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!log_file.empty()) {
    std::error_code ec;
    fs::create_directories(log_file.parent_path(), ec);
    sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file.string(), truncate));
  }
  auto logger = std::make_shared<spdlog::logger>("quantforge", sinks.begin(), sinks.end());
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->set_pattern(rank < 0 ? "[%H:%M:%S] [%^%l%$] %v"
                               : "[%H:%M:%S] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
  // Lines reach the file as they happen, so a long run can be followed with `tail -f` (and a
  // killed one leaves its progress behind); there are few enough that flushing each costs nothing.
  logger->flush_on(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// --log-file may name a new file or a log of ours; never a model file or any other document.
fs::path checked_log_file(const std::string& given) {
  const fs::path p = fs::absolute(given);
  std::error_code ec;
  if (fs::exists(p, ec) && (!fs::is_regular_file(p, ec) || !host::looks_like_our_log(p)))
    throw Error("refusing to use --log-file " + p.string() +
                ": it exists and is not a quantforge log (it would be overwritten); name a new file");
  if (!fs::is_directory(p.parent_path(), ec))
    throw Error("cannot write --log-file " + p.string() + ": folder " + p.parent_path().string() + " does not exist");
  return p;
}

}  // namespace

void add_job_options(po::options_description& desc) {
  desc.add_options()("output", po::value<std::string>(), "write a standalone model folder here")(
      "overwrite", po::bool_switch(), "replace an output folder that holds files quantforge did not write, as a whole")(
      "no-resume", po::bool_switch(), "discard the state of an interrupted run instead of continuing it")(
      "threads", po::value<int>()->default_value(0), "compute threads (0: all cores)")(
      "log-file", po::value<std::string>(), "log file (default: quantize.log beside the output)")(
      "verbose,v", po::bool_switch(), "debug logging");
}

void start_console_logging(const po::variables_map& vm) { setup_logging({}, vm["verbose"].as<bool>()); }

void apply_job_options(const po::variables_map& vm, pipeline::QuantizeRequest& request) {
  if (vm.count("output")) request.output = fs::path(vm["output"].as<std::string>());
  request.cancel = &interrupt_flag();
  request.overwrite = vm["overwrite"].as<bool>();
  request.resume = !vm["no-resume"].as<bool>();
}

int run_job(const pipeline::QuantizeRequest& request, const host::PluginRegistry& registry,
            const po::variables_map& vm) {
  const bool verbose = vm["verbose"].as<bool>();
  std::string given_log = vm.count("log-file") ? vm["log-file"].as<std::string>() : std::string();
  // Ranks of a distributed run share the command line: each but rank 0 logs beside it (.rankR).
  if (!given_log.empty() && request.distributed.distributed() && request.distributed.rank > 0)
    given_log += ".rank" + std::to_string(request.distributed.rank);
  const fs::path log_file = given_log.empty() ? fs::path() : checked_log_file(given_log);

  std::unique_ptr<pipeline::QuantizeJob> job;
  try {
    job = std::make_unique<pipeline::QuantizeJob>(request, registry);
  } catch (const Error& e) {
    spdlog::error("{}", user_message(e));
    spdlog::error("nothing was written; the original model files are untouched");
    return kExitError;
  }
  setup_logging(log_file.empty() ? job->log_path() : log_file, verbose, log_file.empty(),
                request.distributed.distributed() ? request.distributed.rank : -1);
  for (const auto& notice : job->notices()) spdlog::info("{}", notice);
  configure_threads(vm["threads"].as<int>());
  warn_if_reference_blas();
  if (!request.recipe.method.plugin.empty())
    spdlog::info("recipe '{}' ({}), method plugin '{}'", request.recipe.name, request.recipe.source_file,
                 request.recipe.method.plugin);
  const pipeline::QuantizeJob* running = job.get();
  InterruptGuard interrupts([running] { running->remove_staging_now(); });
  try {
    const pipeline::QuantizeSummary s = job->run();
    spdlog::info("done in {:.1f}s: {} layers{}, weights {} -> {}", s.seconds, s.layers,
                 s.resumed_layers ? " (" + std::to_string(s.resumed_layers) + " resumed)" : std::string(),
                 human_bytes(s.input_weight_bytes), human_bytes(s.output_weight_bytes));
    for (const auto& f : s.files) spdlog::info("wrote {}", f.string());
  } catch (const std::exception& e) {
    const int sig = interrupts.signal_received();
    // Finished layers stay resumable after any stop or failure (a fingerprint then guards the resume).
    const auto left = job->abandon(true);
    if (sig)
      spdlog::error("stopped by {} before the output was complete", ::strsignal(sig));
    else
      spdlog::error("{}", user_message(e));
    spdlog::error("nothing was written to {}; the original model files are untouched", job->destination().string());
    if (!left.resume.empty())
      spdlog::info("the finished layers are kept in {}: run the same command again to resume, or add --no-resume "
                   "to start over (or delete that folder)", left.resume.string());
    if (!left.log.empty()) spdlog::info("this run's log is kept at {}", left.log.string());
    return sig ? interrupts.exit_code() : kExitError;
  }
  return kExitOk;
}

}  // namespace qf::cli
