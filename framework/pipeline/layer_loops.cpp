#include "pipeline/layer_loops.hpp"

#include <ATen/ATen.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <spdlog/spdlog.h>

#include "common/error.hpp"
#include "model/weight_source.hpp"
#include "pipeline/calibrated_layer.hpp"
#include "pipeline/checkpoint_layer.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/memory_usage.hpp"

namespace qf::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void call_quantize_layer(const LayerLoop& loop, qf_layer* layer, int64_t i) {
  const auto& m = *loop.method;
  ScopedPhase timed(&loop.run.phases, "method quantize_layer (incl. host services)");
  host::call_plugin(m.plugin().name(), "quantize_layer " + std::to_string(i), [&](qf_error* err) {
    return m.plugin().method()->quantize_layer(m.object(), layer, static_cast<uint32_t>(i),
                                               static_cast<uint32_t>(loop.layers), err);
  });
}

int64_t first_layer(const LayerLoop& loop) { return loop.resume ? loop.resume->layers_done() : 0; }

void log_layer_done(const LayerLoop& loop, int64_t i, Clock::time_point layer_start) {
  const double elapsed = since(loop.start);
  const double done_here = static_cast<double>(i + 1 - first_layer(loop));
  const double eta = elapsed / std::max(done_here, 1.0) * static_cast<double>(loop.layers - i - 1);
  spdlog::info("layer {}/{} done in {:.1f}s (elapsed {:.1f}s, ETA {:.1f}s, RSS {:.2f} GiB, peak {:.2f})", i + 1,
               loop.layers, since(layer_start), elapsed, eta, current_rss_gib(), peak_rss_gib());
}

void emit_stored(Run& run, const st::Checkpoint& ckpt, const std::string& name) {
  run.emit_tensor(name, view_of(ckpt.get(name)));
}

// The current value of a tensor of a module that scale_previous_op changed, in the stored dtype.
at::Tensor current_value(const model::DecoderLayer& layer, const std::string& module, const std::string& field,
                         at::ScalarType stored) {
  at::Tensor t;
  if (const model::Norm* n = layer.norm(module)) t = field == "weight" ? n->weight : n->bias;
  else t = field == "weight" ? layer.weight(module) : layer.bias(module);
  QF_ASSERT(t.defined(), "scaled module " + module + " has no " + field);
  return t.to(stored).contiguous();
}

// Makes layer i durable for a resume, then (tests only) dies the hardest way if asked to, so the
// resume tests exercise a real SIGKILL at a known layer, or stops itself (SIGSTOP), so a test can
// hold a run at a known point without racing it.
void finish_layer(const LayerLoop& loop, int64_t i, const at::Tensor& next_hidden) {
  loop.run.recorder = nullptr;
  if (loop.resume) {
    ScopedPhase timed(&loop.run.phases, "resume state (per-layer checkpoint)");
    loop.resume->finish_layer(i, next_hidden);
  }
  if (const char* kill_at = std::getenv("QUANTFORGE_TEST_KILL_AFTER_LAYER"))
    if (std::to_string(i) == kill_at) ::kill(::getpid(), SIGKILL);
  if (const char* stop_at = std::getenv("QUANTFORGE_TEST_STOP_AFTER_LAYER"))
    if (std::to_string(i) == stop_at) ::kill(::getpid(), SIGSTOP);
}

// Drops the mapped checkpoint pages of layer i from our RSS once they have been copied.
void release_layer_pages(const LayerLoop& loop, int64_t i) {
  const std::string prefix = loop.arch.layer_prefix + std::to_string(i) + ".";
  for (const auto& name : loop.ckpt.names())
    if (name.rfind(prefix, 0) == 0) loop.ckpt.release_pages(name);
}

// Hands the heap memory the layer's temporaries freed back to the kernel. Without it glibc keeps
// the holes its arenas accumulate and the RSS creeps up layer by layer.
void return_free_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace

void quantize_from_checkpoint(const LayerLoop& loop, const model::WeightSource& source) {
  for (int64_t i = first_layer(loop); i < loop.layers; ++i) {
    if (loop.run.cancelled()) throw Cancelled("cancelled by the user");
    const auto t0 = Clock::now();
    loop.run.recorder = loop.resume;
    CheckpointLayer layer(source, loop.arch, i);
    if (loop.method) call_quantize_layer(loop, &layer, i);
    for (const auto& name : loop.ckpt.names())
      if (name.rfind(layer.prefix(), 0) == 0 && !layer.replaced().count(name)) emit_stored(loop.run, loop.ckpt, name);
    release_layer_pages(loop, i);
    finish_layer(loop, i, at::Tensor());
    return_free_heap();
    log_layer_done(loop, i, t0);
  }
}

void quantize_calibrated(const LayerLoop& loop, const model::Model& model, at::Tensor hidden, bool propagate_quantized,
                         int64_t chunk, int64_t state_cache_bytes) {
  // One cache for every layer: its buffers are reused, not faulted in again per layer.
  const auto states = std::make_shared<ForwardStateCache>(state_cache_bytes);
  for (int64_t i = first_layer(loop); i < loop.layers; ++i) {
    if (loop.run.cancelled()) throw Cancelled("cancelled by the user");
    const auto t0 = Clock::now();
    loop.run.recorder = loop.resume;
    std::optional<model::DecoderLayer> loaded;
    {
      ScopedPhase timed(&loop.run.phases, "layer loads");
      loaded.emplace(model.load_layer(i));
    }
    release_layer_pages(loop, i);  // the resident layer holds its own copies now
    model::DecoderLayer& resident = *loaded;
    const std::string prefix = loop.arch.layer_prefix + std::to_string(i) + ".";
    CalibratedLayer layer(resident, loop.arch, hidden, prefix, chunk, &loop.run.phases, states);
    layer.set_distributed(loop.collective, loop.first_block, loop.all_blocks);
    layer.set_gram_granule(loop.gram_granule);
    layer.set_cancel_check([&run = loop.run] { return run.cancelled(); });
    auto propagate = [&] {
      ScopedPhase timed(&loop.run.phases, "propagation forwards");
      return layer.forward_all();
    };
    at::Tensor next;
    if (!propagate_quantized) next = propagate();
    call_quantize_layer(loop, &layer, i);
    if (propagate_quantized) next = propagate();

    for (const auto& name : loop.ckpt.names()) {
      if (name.rfind(prefix, 0) != 0 || layer.replaced().count(name)) continue;
      const std::string relative = name.substr(prefix.size());
      const auto dot = relative.rfind('.');
      const std::string module = relative.substr(0, dot), field = relative.substr(dot + 1);
      if (layer.scaled_modules().count(module) && (field == "weight" || field == "bias")) {
        const auto stored = model::to_scalar_type(loop.ckpt.get(name).info->dtype, name);
        const at::Tensor value = current_value(resident, module, field, stored);
        loop.run.emit_tensor(name, view_of(value));
      } else {
        emit_stored(loop.run, loop.ckpt, name);
      }
    }
    finish_layer(loop, i, next);
    hidden = next;
    return_free_heap();
    log_layer_done(loop, i, t0);
  }
}

}  // namespace qf::pipeline
