#pragma once
// `quantforge quantize`: runs a recipe's method plugin over every decoder layer and streams the
// result through the recipe's format plugins into the layout's folder, all or nothing.
#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "distributed/options.hpp"
#include "host/output_transaction.hpp"
#include "host/plugin_registry.hpp"
#include "recipe/recipe.hpp"

namespace qf::pipeline {

struct QuantizeRequest {
  std::filesystem::path model_dir;
  recipe::Recipe recipe;  // CLI overrides already applied
  std::optional<std::filesystem::path> output;  // --output: standalone layout
  const std::atomic<bool>* cancel = nullptr;    // set asynchronously (signals) to stop the run
  bool overwrite = false;  // --overwrite: replace a destination folder holding files we did not write
  bool resume = true;      // false (--no-resume): discard an interrupted run's state and start over
  // Data-parallel calibration: this process is one rank of several, each calibrating on its share of
  // the blocks. Rank 0 writes the output; the others write nothing outside a private temporary
  // folder that they remove. Distributed runs do not resume (each rank's state would be its own).
  dist::DistributedOptions distributed;
};

struct QuantizeSummary {
  std::filesystem::path destination;
  std::vector<std::filesystem::path> files;
  uint64_t input_weight_bytes = 0;
  uint64_t output_weight_bytes = 0;
  int64_t layers = 0;
  int64_t resumed_layers = 0;  // layers taken from an interrupted run's state
  double seconds = 0;
};

struct Prepared;

// One run, in two steps so the caller can attach its log between them. The constructor plans the
// run and claims the destination (lock, ownership and free-space checks, staging folder, cleanup
// after killed runs) without doing any work; run() quantizes and commits. When run() throws (or is
// never called), abandon() removes the staged output; an interrupted run keeps its resume state.
class QuantizeJob {
 public:
  QuantizeJob(QuantizeRequest request, const host::PluginRegistry& registry);
  ~QuantizeJob();
  QuantizeJob(const QuantizeJob&) = delete;
  QuantizeJob& operator=(const QuantizeJob&) = delete;

  const std::filesystem::path& destination() const;
  std::filesystem::path log_path() const;  // the staged quantize.log
  const std::vector<std::string>& notices() const;  // cleanup done while claiming the destination
  // A rank other than 0 of a distributed run: it computes but never commits.
  bool worker() const { return request_.distributed.distributed() && request_.distributed.rank > 0; }
  // Paths an emergency abort (second interrupt) removes without touching this object.
  std::filesystem::path staging_dir() const;
  void remove_staging_now() const noexcept { tx_->remove_staging_now(); }

  QuantizeSummary run();
  host::OutputTransaction::Abandoned abandon(bool keep_resume) noexcept;

 private:
  QuantizeRequest request_;
  const host::PluginRegistry& registry_;
  std::unique_ptr<Prepared> plan_;
  std::unique_ptr<host::OutputTransaction> tx_;
  std::filesystem::path private_dir_;  // a worker rank's own folder under $TMPDIR, removed with the job
};

// Plans, runs and commits in one call (tests, embedding). Throws qf::Error with one clear message
// on any user error or plugin failure; nothing is left at the destination then.
QuantizeSummary quantize(const QuantizeRequest& request, const host::PluginRegistry& registry);

// The folder a run will write to, without running it.
std::filesystem::path planned_destination(const QuantizeRequest& request, const host::PluginRegistry& registry);

}  // namespace qf::pipeline
