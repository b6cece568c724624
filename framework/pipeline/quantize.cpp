#include "pipeline/quantize.hpp"

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include <unistd.h>

#include "common/error.hpp"
#include "distributed/collective.hpp"
#include "host/output_transaction.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "model/weight_source.hpp"
#include "pipeline/checkpoint_checks.hpp"
#include "pipeline/checkpoint_layer.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/layout.hpp"
#include "pipeline/memory_plan.hpp"
#include "pipeline/memory_usage.hpp"
#include "pipeline/model_files.hpp"
#include "pipeline/plugin_instance.hpp"
#include "pipeline/rank_share.hpp"
#include "pipeline/run_services.hpp"
#include "pipeline/layer_loops.hpp"
#include "pipeline/calibration_inputs.hpp"
#include "pipeline/resume_state.hpp"
#include "recipe/method_options.hpp"

namespace fs = std::filesystem;

namespace qf::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

std::map<std::string, host::GivenOption> given_options(const recipe::PluginStep& step) {
  std::map<std::string, host::GivenOption> out;
  for (const auto& [name, v] : step.options) out[name] = host::GivenOption{v.value, v.origin};
  return out;
}

std::shared_ptr<const host::Plugin> require_plugin(const host::PluginRegistry& registry, const std::string& name,
                                                   int32_t kind) {
  auto plugin = registry.find(name);
  if (!plugin) {
    std::string known;
    for (const auto& p : registry.plugins()) known += (known.empty() ? "" : ", ") + p->name();
    throw Error(std::string(host::kind_name(kind)) + " plugin '" + name + "' is not installed (installed: " +
                (known.empty() ? "none" : known) +
                "); see `quantforge plugins list`, --plugin-dir and $QUANTFORGE_PLUGIN_PATH");
  }
  if (plugin->kind() != kind)
    throw Error("plugin '" + name + "' is a " + host::kind_name(plugin->kind()) + " plugin, not a " +
                host::kind_name(kind) + " plugin");
  return plugin;
}

// The integer option `key` under any of its names (recipe::option_names), else fallback.
int64_t int_option(const std::map<std::string, host::OptionValue>& options, const std::string& key, int64_t fallback) {
  for (const std::string& n : recipe::option_names(key))
    if (auto it = options.find(n); it != options.end() && std::holds_alternative<int64_t>(it->second))
      return std::get<int64_t>(it->second);
  return fallback;
}

uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}


// One line per phase; the method's own work is its time minus the host services it called.
void log_phases(const PhaseTimes& phases, double total) {
  const double services = phases.get("capture forwards") + phases.get("Gram accumulation (fp32)") +
                          phases.get("module forwards (run_module)");
  const double method = phases.get("method quantize_layer (incl. host services)");
  // Emits from inside quantize_layer are counted in both; layer-loop emits of unchanged tensors are small.
  spdlog::info("time by phase (total {:.1f}s, peak RSS {:.2f} GiB):", total, peak_rss_gib());
  for (const auto& [name, seconds] : phases.totals())
    spdlog::info("  {:<45} {:8.1f}s {:5.1f}%", name, seconds, 100.0 * seconds / std::max(total, 1e-9));
  if (method > 0)
    spdlog::info("  {:<45} {:8.1f}s {:5.1f}%", "method's own work (method minus services)", method - services,
                 100.0 * (method - services) / std::max(total, 1e-9));
}

}  // namespace

struct Prepared {
  model::ModelConfig config;
  const model::Architecture* arch = nullptr;
  std::shared_ptr<const host::Plugin> method;  // null for a run without a method (`convert`)
  std::map<std::string, host::OptionValue> method_options;
  ResolvedLayout layout;
  int64_t bits = 0;
  std::optional<st::Checkpoint> checkpoint;  // opened once by QuantizeJob, mapped for the whole run
};

namespace {

Prepared prepare(const QuantizeRequest& request, const host::PluginRegistry& registry) {
  Prepared p;
  const fs::path& dir = request.model_dir;
  if (!fs::is_directory(dir)) throw Error("model folder not found: " + dir.string());
  if (!fs::is_regular_file(dir / "config.json")) throw Error("no config.json in " + dir.string());
  {
    std::ifstream in(dir / "config.json");
    nlohmann::json raw;
    try {
      raw = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error((dir / "config.json").string() + " is not valid JSON: " + e.what());
    }
    if (raw.contains("quantization_config"))
      throw Error((dir / "config.json").string() + " already has a quantization_config: the model is quantized");
  }
  p.config = model::load_config(dir);
  p.arch = &model::find_architecture(p.config.model_type, (dir / "config.json").string());
  if (!request.recipe.method.plugin.empty()) {
    p.method = require_plugin(registry, request.recipe.method.plugin, QF_KIND_METHOD);
    p.method_options = host::resolve_options(*p.method, given_options(request.recipe.method));
  }
  const int64_t bits = int_option(p.method_options, "bits", 0);
  const int64_t group = int_option(p.method_options, "group_size", 0);
  p.layout = resolve_layout(request.recipe.layout, dir, request.output, bits, group);
  p.bits = bits;
  return p;
}

// Options the layout decides for format plugins that declare them, unless the recipe set them.
std::map<std::string, host::GivenOption> format_options(const host::Plugin& plugin, const recipe::PluginStep& step,
                                                        const ResolvedLayout& layout) {
  auto given = given_options(step);
  auto inject = [&](const char* name, host::OptionValue v) {
    if (plugin.option(name) && !given.count(name)) given[name] = host::GivenOption{std::move(v), "layout"};
  };
  inject("file_suffix", layout.file_suffix);
  inject("index_file", layout.index_file);
  inject("always", layout.always_write_index);
  return given;
}


// Bytes the staging folder needs at its peak: the format spool and the shards it becomes (two copies
// of the output), the resume copies of the layers (a third), and two generations of the calibration
// hidden states. Weight matrices of decoder layers shrink to `bits` per value plus ~10% for scales.
uint64_t staging_bytes_needed(const st::Checkpoint& ckpt, const std::string& layer_prefix, int64_t bits,
                              uint64_t hidden_bytes) {
  uint64_t output = 0;
  for (const auto& name : ckpt.names()) {
    const auto view = ckpt.get(name);
    const bool quantized = name.rfind(layer_prefix, 0) == 0 && view.info->shape.size() == 2 && bits > 0 && bits < 16;
    output += quantized ? static_cast<uint64_t>(static_cast<double>(view.info->numel()) * bits / 8.0 * 1.1)
                        : view.info->nbytes();
  }
  return 3 * output + 2 * hidden_bytes + (64u << 20);
}

std::string describe_recipe(const Prepared& p, const recipe::Recipe& r) {
  std::string out = p.method ? "method " + p.method->name() + " " + p.method->version() + " {" : "no method {";
  for (const auto& [name, value] : p.method_options) out += name + "=" + recipe::option_to_toml(value) + ";";
  out += "} formats";
  for (const auto& f : r.formats) {
    out += " " + f.plugin + "{";
    for (const auto& [name, v] : f.options) out += name + "=" + recipe::option_to_toml(v.value) + ";";
    out += "}";
  }
  return out + " layout " + recipe::layout_policy_name(p.layout.policy) + " compute " + r.compute_dtype;
}

// The model files a run reads (so an edit or a re-download refuses a resume).
std::vector<fs::path> input_files(const fs::path& dir, const st::Checkpoint& ckpt) {
  std::vector<fs::path> files{dir / "config.json"};
  for (const auto& f : ckpt.files()) files.push_back(f->path());
  for (const char* side : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    if (fs::exists(dir / side)) files.push_back(dir / side);
  return files;
}

host::OutputSetSpec output_spec(const QuantizeRequest& request, const Prepared& p) {
  host::OutputSetSpec spec;
  spec.destination = p.layout.destination;
  spec.protected_files = protected_files(request.model_dir, p.layout);
  spec.model_dir = request.model_dir;
  spec.overwrite = request.overwrite;
  spec.keep_resume = request.resume;
  if (p.layout.policy == recipe::LayoutPolicy::InPlace) {
    spec.in_place_key = in_place_key(p.layout);
    const ResolvedLayout layout = p.layout;
    spec.earlier_output_name = [layout](const std::string& name) { return is_earlier_output(layout, name); };
  }
  return spec;
}

std::string plugin_versions_of(const Prepared& p, const recipe::Recipe& recipe, const host::PluginRegistry& registry) {
  std::string out = p.method ? p.method->name() + " " + p.method->version() : "no method";
  for (const auto& step : recipe.formats)
    if (auto plugin = registry.find(step.plugin)) out += ", " + plugin->name() + " " + plugin->version();
  return out;
}

void replay_finished_layers(Run& run, const ResumeStore& store) {
  ScopedPhase timed(&run.phases, "resume (replay finished layers)");
  for (int64_t i = 0; i < store.layers_done(); ++i)
    store.replay_layer(i, [&](const std::string& name, const DLTensor& t) { run.emit_tensor(name, t); });
}

}  // namespace

fs::path planned_destination(const QuantizeRequest& request, const host::PluginRegistry& registry) {
  return prepare(request, registry).layout.destination;
}

QuantizeJob::QuantizeJob(QuantizeRequest request, const host::PluginRegistry& registry)
    : request_(std::move(request)), registry_(registry) {
  request_.distributed.validate();
  if (worker()) {
    // Ranks other than 0 stage inside a private folder of their own (never the model folder or the
    // destination rank 0 claims), so they share every code path and commit nothing anywhere. Its
    // staging, lock and log all lie inside it, and the job removes it whole when it ends.
    std::string dir = (fs::temp_directory_path() /
                       ("quantforge-rank" + std::to_string(request_.distributed.rank) + "-XXXXXX")).string();
    if (::mkdtemp(dir.data()) == nullptr)
      throw Error("rank " + std::to_string(request_.distributed.rank) + ": cannot create a private folder in " +
                  fs::temp_directory_path().string() + ": " + std::strerror(errno));
    private_dir_ = dir;
    request_.output = private_dir_ / "output";
    request_.resume = false;
  }
  plan_ = std::make_unique<Prepared>(prepare(request_, registry_));
  plan_->checkpoint.emplace(st::Checkpoint::open(request_.model_dir));
  const st::Checkpoint& ckpt = *plan_->checkpoint;
  // Every method gets the same shape checks before anything is created or computed.
  check_checkpoint_matches_config(ckpt, plan_->config, *plan_->arch, request_.model_dir / "config.json");
  tx_ = std::make_unique<host::OutputTransaction>(output_spec(request_, *plan_));
  uint64_t hidden_bytes = 0;
  if (const auto& c = request_.recipe.calibration)
    hidden_bytes = static_cast<uint64_t>(std::max<int64_t>(c->num_samples, 0)) *
                   static_cast<uint64_t>(std::max<int64_t>(c->seqlen, 0)) *
                   static_cast<uint64_t>(plan_->config.hidden_size) * 4u;
  if (!worker())  // a worker stages nothing of size
    tx_->require_free_space(staging_bytes_needed(ckpt, plan_->arch->layer_prefix, plan_->bits, hidden_bytes),
                          "staged shards, their spool and the per-layer resume state");
}

QuantizeJob::~QuantizeJob() {
  tx_.reset();  // its lock and staging first; then a worker's private folder goes, whatever is left in it
  if (!private_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(private_dir_, ec);
  }
}

const fs::path& QuantizeJob::destination() const { return tx_->destination(); }
fs::path QuantizeJob::log_path() const { return tx_->log_path(); }
const std::vector<std::string>& QuantizeJob::notices() const { return tx_->notices(); }
fs::path QuantizeJob::staging_dir() const { return tx_->staging_dir(); }

host::OutputTransaction::Abandoned QuantizeJob::abandon(bool keep_resume) noexcept {
  return tx_->abandon(keep_resume);
}

QuantizeSummary QuantizeJob::run() {
  const auto start = Clock::now();
  const Prepared& p = *plan_;
  const QuantizeRequest& request = request_;
  const host::PluginRegistry& registry = registry_;
  host::OutputTransaction& tx = *tx_;
  const fs::path& dir = request.model_dir;
  const st::Checkpoint& ckpt = *p.checkpoint;
  model::CheckpointSource source(ckpt);
  Run run(tx, request.cancel, dir);

  std::unique_ptr<dist::Collective> collective;
  if (request.distributed.distributed()) {
    const dist::DistributedOptions& d = request.distributed;
    spdlog::info("distributed run: rank {} of {}, meeting the others at {}:{} (timeout {} s)", d.rank, d.world_size,
                 d.master_addr, d.master_port, d.timeout.count() / 1000);
    collective = dist::Collective::connect(d);
    spdlog::info("distributed run: all {} ranks connected{}", d.world_size,
                 worker() ? "; this rank writes nothing (rank 0 writes the output)" : "");
  }

  Fingerprint fingerprint{{"model files", describe_files(input_files(dir, ckpt))},
                          {"recipe", describe_recipe(p, request.recipe)},
                          {"threads", std::to_string(at::get_num_threads())}};
  // Instances are destroyed (reverse order) before `run` and the transaction go.
  for (size_t i = 0; i < request.recipe.formats.size(); ++i) {
    if (worker()) break;  // only rank 0 writes
    const auto& step = request.recipe.formats[i];
    auto plugin = require_plugin(registry, step.plugin, QF_KIND_FORMAT);
    auto session = std::make_unique<qf_session>();
    session->run = &run;
    session->plugin_name = plugin->name();
    session->format_index = static_cast<int>(i);
    session->options = host::resolve_options(*plugin, format_options(*plugin, step, p.layout));
    run.formats.push_back(std::make_unique<PluginInstance>(plugin, std::move(session)));
  }
  fingerprint["plugins"] = plugin_versions_of(p, request.recipe, registry);
  std::unique_ptr<PluginInstance> method;
  qf_method_requirements req{};
  req.struct_size = sizeof(req);
  if (p.method) {
    auto method_session = std::make_unique<qf_session>();
    method_session->run = &run;
    method_session->plugin_name = p.method->name();
    method_session->options = p.method_options;
    method = std::make_unique<PluginInstance>(p.method, std::move(method_session));
    host::call_plugin(p.method->name(), "requirements",
                      [&](qf_error* err) { return p.method->method()->requirements(method->object(), &req, err); });
    if (!req.needs_calibration) warn_unused_calibration_flags(request.recipe, p.method->name());
  }

  const int64_t layers = p.config.num_layers;
  if (p.method)
    spdlog::info("quantizing {} ({} layers, {}) with '{}' into {}", dir.string(), layers, p.config.model_type,
                 p.method->name(), p.layout.destination.string());
  else
    spdlog::info("converting {} ({} layers, {}) without quantizing into {}", dir.string(), layers,
                 p.config.model_type, p.layout.destination.string());
  at::Tensor ids;
  if (req.needs_calibration) {
    ScopedPhase timed(&run.phases, "calibration data (read, tokenize, embed)");
    ids = calibration_ids(request, req, p.config);
    fingerprint["calibration data"] = std::to_string(ids.size(0)) + "x" + std::to_string(ids.size(1)) + " tokens, hash " +
                                      hash_tensor(ids);
  }
  int64_t first_block = 0, all_blocks = ids.defined() ? ids.size(0) : 0;
  const int64_t granule = gram_granule(all_blocks);
  if (collective) {
    if (!req.needs_calibration)
      throw Error("a distributed run splits the calibration data, and method '" +
                  (p.method ? p.method->name() : std::string("none")) + "' has none: run it as one process");
    RankInputs inputs{model_identity(dir, ckpt), fingerprint["recipe"], fingerprint["plugins"],
                      fingerprint["calibration data"]};
    if (const auto at = inputs.recipe.find(" layout "), to = inputs.recipe.find(" compute ");
        at != std::string::npos && to != std::string::npos && to > at)
      inputs.recipe.erase(at, to - at);  // the layout differs: ranks > 0 stage privately
    RankShare share = take_rank_share(*collective, inputs, ids, granule);
    ids = share.ids;
    first_block = share.first_block;
  }
  ResumeStore store(tx.resume_dir(), fingerprint);
  const int64_t resumed = store.layers_done();
  if (store.layers_done() > 0) {
    spdlog::info("resuming an interrupted run: {} of {} layers were finished (resume state {:.1f} MB in {})",
                 store.layers_done(), layers, static_cast<double>(store.bytes_on_disk()) / 1e6,
                 tx.resume_dir().string());
    replay_finished_layers(run, store);
  }
  // A distributed run keeps no resume state: each rank's hidden states are its own share.
  const LayerLoop loop{run,  method.get(), ckpt, *p.arch, layers, start, collective ? nullptr : &store,
                       collective.get(), first_block, all_blocks, granule};
  if (req.needs_calibration) {
    run.calibrated = true;
    const model::ComputeOptions compute = compute_options(request.recipe.compute_dtype, p.config.dtype);
    const model::Model model(p.config, std::make_shared<model::CheckpointSource>(ckpt), compute);
    at::Tensor hidden;
    CalibrationMemoryPlan memory;
    {
      ScopedPhase timed(&run.phases, "calibration data (read, tokenize, embed)");
      memory = check_calibration_memory(p.config, ids.size(0), ids.size(1),
                                        static_cast<int64_t>(c10::elementSize(compute.dtype)),
                                        calibration_chunk(ids, p.config), p.method->name(), req.propagate_quantized);
      explain_allocation_failures(memory, [&] { hidden = resumed > 0 ? store.load_hidden() : model.embed(ids); });
    }
    spdlog::info("calibration: {} blocks x {} tokens, compute {} (RSS {:.2f} GiB, peak {:.2f})", ids.size(0),
                 ids.size(1), compute.dtype == at::kBFloat16 ? "bf16" : "fp32", current_rss_gib(), peak_rss_gib());
    const int64_t state_bytes = memory.forward_state_budget();
    spdlog::info("kept layer states up to {:.0f} MiB (captures and propagation resume where the last forward "
                 "stopped)", static_cast<double>(state_bytes) / (1 << 20));
    explain_allocation_failures(memory, [&] {
      quantize_calibrated(loop, model, std::move(hidden), req.propagate_quantized, calibration_chunk(ids, p.config),
                          state_bytes);
    });
  } else {
    quantize_from_checkpoint(loop, source);
  }
  // Tensors outside the decoder layers (embeddings, final norm, lm_head) stay as stored.
  const std::string layer_root = p.arch->layer_prefix;
  for (const auto& name : ckpt.names())
    if (name.rfind(layer_root, 0) != 0) run.emit_tensor(name, view_of(ckpt.get(name)));

  if (p.method) {
    host::call_plugin(p.method->name(), "finish",
                      [&](qf_error* err) { return p.method->method()->finish(method->object(), err); });
    if (run.quant_config().empty())
      throw Error("method '" + p.method->name() + "' finished without setting a quantization_config (a plugin bug)");
  }
  {
    ScopedPhase timed(&run.phases, "format finish (write shards, index)");
    for (auto& f : run.formats)
      host::call_plugin(f->plugin().name(), "finish",
                        [&](qf_error* err) { return f->plugin().format()->finish(f->object(), err); });
  }

  // Rank 0 commits only once every rank got here: one that failed late leaves no output behind.
  if (collective) {
    collective->barrier();
    spdlog::info("distributed run: {:.1f} MB summed across the {} ranks ({:.1f} MB a layer) in {:.1f} s",
                 static_cast<double>(collective->bytes_reduced()) / 1e6, collective->world_size(),
                 static_cast<double>(collective->bytes_reduced()) / 1e6 / static_cast<double>(std::max<int64_t>(1, layers)),
                 collective->seconds_reducing());
  }
  if (worker()) {
    QuantizeSummary summary;
    summary.layers = layers;
    summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    log_phases(run.phases, summary.seconds);
    tx.abandon(false);  // its private staging folder; nothing was ever outside it
    return summary;
  }
  const CreateOutput create = [&](const std::string& name) { return tx.create(name); };
  if (p.layout.copy_model_files) {
    write_quantized_config(dir, run.output_quant_config(), create);
    copy_side_files(dir, create);
  }
  if (!p.layout.quant_config_file.empty() && !run.output_quant_config().empty())
    write_quant_config_file(p.layout.quant_config_file, run.output_quant_config(), create);
  if (run.cancelled()) throw Cancelled("cancelled by the user");

  QuantizeSummary summary;
  summary.destination = p.layout.destination;
  summary.layers = layers;
  summary.resumed_layers = resumed;
  for (const auto& f : ckpt.files()) summary.input_weight_bytes += file_size_or_zero(f->path());
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log_phases(run.phases, summary.seconds);
  {
    ScopedPhase timed(&run.phases, "commit (rename into place)");
    summary.files = tx.commit();
  }
  for (const auto& shard : run.shards()) summary.output_weight_bytes += file_size_or_zero(p.layout.destination / shard);
  return summary;
}

QuantizeSummary quantize(const QuantizeRequest& request, const host::PluginRegistry& registry) {
  QuantizeJob job(request, registry);
  return job.run();
}

}  // namespace qf::pipeline
