#include "pipeline/quantize.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.hpp"
#include "host/output_transaction.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "model/weight_source.hpp"
#include "pipeline/checkpoint_layer.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/layout.hpp"
#include "pipeline/memory_plan.hpp"
#include "pipeline/memory_usage.hpp"
#include "pipeline/model_files.hpp"
#include "pipeline/plugin_instance.hpp"
#include "pipeline/run_services.hpp"
#include "pipeline/layer_loops.hpp"
#include "pipeline/calibration_inputs.hpp"

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

int64_t int_option(const std::map<std::string, host::OptionValue>& options, std::initializer_list<const char*> names,
                   int64_t fallback) {
  for (const char* n : names)
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

struct Prepared {
  model::ModelConfig config;
  const model::Architecture* arch = nullptr;
  std::shared_ptr<const host::Plugin> method;
  std::map<std::string, host::OptionValue> method_options;
  ResolvedLayout layout;
};

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
  p.method = require_plugin(registry, request.recipe.method.plugin, QF_KIND_METHOD);
  p.method_options = host::resolve_options(*p.method, given_options(request.recipe.method));
  const int64_t bits = int_option(p.method_options, {"bits", "w_bit"}, 0);
  const int64_t group = int_option(p.method_options, {"group_size", "q_group_size"}, 0);
  p.layout = resolve_layout(request.recipe.layout, dir, request.output, bits, group);
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

}  // namespace

fs::path planned_destination(const QuantizeRequest& request, const host::PluginRegistry& registry) {
  return prepare(request, registry).layout.destination;
}

QuantizeSummary quantize(const QuantizeRequest& request, const host::PluginRegistry& registry) {
  const auto start = Clock::now();
  Prepared p = prepare(request, registry);
  const fs::path& dir = request.model_dir;
  st::Checkpoint ckpt = st::Checkpoint::open(dir);
  model::CheckpointSource source(ckpt);

  host::OutputTransaction tx(p.layout.destination, protected_files(dir, p.layout));
  Run run(tx, request.cancel);

  // Instances are destroyed (reverse order) before `run` and the transaction go.
  for (size_t i = 0; i < request.recipe.formats.size(); ++i) {
    const auto& step = request.recipe.formats[i];
    auto plugin = require_plugin(registry, step.plugin, QF_KIND_FORMAT);
    auto session = std::make_unique<qf_session>();
    session->run = &run;
    session->plugin_name = plugin->name();
    session->format_index = static_cast<int>(i);
    session->options = host::resolve_options(*plugin, format_options(*plugin, step, p.layout));
    run.formats.push_back(std::make_unique<PluginInstance>(plugin, std::move(session)));
  }
  auto method_session = std::make_unique<qf_session>();
  method_session->run = &run;
  method_session->plugin_name = p.method->name();
  method_session->options = p.method_options;
  PluginInstance method(p.method, std::move(method_session));
  const qf_method_vtable* mv = p.method->method();

  qf_method_requirements req{};
  req.struct_size = sizeof(req);
  host::call_plugin(p.method->name(), "requirements",
                    [&](qf_error* err) { return mv->requirements(method.object(), &req, err); });

  const int64_t layers = p.config.num_layers;
  spdlog::info("quantizing {} ({} layers, {}) with '{}' into {}", dir.string(), layers, p.config.model_type,
               p.method->name(), p.layout.destination.string());
  const LayerLoop loop{run, method, ckpt, *p.arch, layers, start};
  if (req.needs_calibration) {
    run.calibrated = true;
    const model::ComputeOptions compute = compute_options(request.recipe.compute_dtype, p.config.dtype);
    const model::Model model(p.config, std::make_shared<model::CheckpointSource>(ckpt), compute);
    at::Tensor ids, hidden;
    CalibrationMemoryPlan memory;
    {
      ScopedPhase timed(&run.phases, "calibration data (read, tokenize, embed)");
      ids = calibration_ids(request, req, p.config);
      memory = check_calibration_memory(p.config, ids.size(0), ids.size(1),
                                        static_cast<int64_t>(c10::elementSize(compute.dtype)),
                                        calibration_chunk(ids, p.config), p.method->name(), req.propagate_quantized);
      explain_allocation_failures(memory, [&] { hidden = model.embed(ids); });
    }
    spdlog::info("calibration: {} blocks x {} tokens, compute {} (RSS {:.2f} GiB, peak {:.2f})", ids.size(0),
                 ids.size(1), compute.dtype == at::kBFloat16 ? "bf16" : "fp32", current_rss_gib(), peak_rss_gib());
    explain_allocation_failures(memory, [&] {
      quantize_calibrated(loop, model, std::move(hidden), req.propagate_quantized, calibration_chunk(ids, p.config));
    });
  } else {
    quantize_from_checkpoint(loop, source);
  }
  // Tensors outside the decoder layers (embeddings, final norm, lm_head) stay as stored.
  const std::string layer_root = p.arch->layer_prefix;
  for (const auto& name : ckpt.names())
    if (name.rfind(layer_root, 0) != 0) run.emit_tensor(name, view_of(ckpt.get(name)));

  host::call_plugin(p.method->name(), "finish", [&](qf_error* err) { return mv->finish(method.object(), err); });
  if (run.quant_config().empty())
    throw Error("method '" + p.method->name() + "' finished without setting a quantization_config (a plugin bug)");
  {
    ScopedPhase timed(&run.phases, "format finish (write shards, index)");
    for (auto& f : run.formats)
      host::call_plugin(f->plugin().name(), "finish",
                        [&](qf_error* err) { return f->plugin().format()->finish(f->object(), err); });
  }

  const CreateOutput create = [&](const std::string& name) { return tx.create(name); };
  if (p.layout.copy_model_files) {
    write_quantized_config(dir, run.quant_config(), create);
    copy_side_files(dir, create);
  }
  if (!p.layout.quant_config_file.empty()) write_quant_config_file(p.layout.quant_config_file, run.quant_config(), create);
  if (run.cancelled()) throw Error("cancelled by the user");

  QuantizeSummary summary;
  summary.destination = p.layout.destination;
  summary.layers = layers;
  for (const auto& f : ckpt.files()) summary.input_weight_bytes += file_size_or_zero(f->path());
  {
    ScopedPhase timed(&run.phases, "commit (rename into place)");
    summary.files = tx.commit();
  }
  for (const auto& shard : run.shards()) summary.output_weight_bytes += file_size_or_zero(p.layout.destination / shard);
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log_phases(run.phases, summary.seconds);
  return summary;
}

}  // namespace qf::pipeline
