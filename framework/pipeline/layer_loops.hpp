#pragma once
// The per-layer loop of a quantization run, in its two shapes: methods without calibration see
// weights straight from the checkpoint; calibrated methods see a resident layer with the hidden
// states of the calibration set flowing through it.
#include <ATen/core/Tensor.h>

#include <chrono>

#include "distributed/collective.hpp"
#include "model/model.hpp"
#include "pipeline/plugin_instance.hpp"
#include "pipeline/resume_state.hpp"
#include "pipeline/run_services.hpp"
#include "safetensors/reader.hpp"

namespace qf::pipeline {

struct LayerLoop {
  Run& run;
  const PluginInstance* method;  // nullptr: no method (`convert`), every tensor passes through as stored
  const st::Checkpoint& ckpt;
  const model::Architecture& arch;
  int64_t layers;
  std::chrono::steady_clock::time_point start;
  ResumeStore* resume = nullptr;  // records each finished layer; its layers_done() are skipped
  dist::Collective* collective = nullptr;  // a distributed run: statistics are summed across ranks
  int64_t first_block = 0, all_blocks = 0;  // this rank's share of the calibration blocks
  int64_t gram_granule = 1;                 // blocks per Gram piece (CalibratedLayer::set_gram_granule)
};

// Also the loop of a run without a method, which emits every layer tensor as stored.
void quantize_from_checkpoint(const LayerLoop& loop, const model::WeightSource& source);

// `hidden`: [blocks, seqlen, hidden] embeddings of the calibration blocks (compute dtype).
// `propagate_quantized`: feed the next layer the quantized (GPTQ) or the original (AWQ) outputs.
// `state_cache_bytes`: memory for the layer's kept intermediate states (CalibratedLayer).
void quantize_calibrated(const LayerLoop& loop, const model::Model& model, at::Tensor hidden,
                         bool propagate_quantized, int64_t chunk, int64_t state_cache_bytes);

}  // namespace qf::pipeline
