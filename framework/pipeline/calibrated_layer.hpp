#pragma once
// A decoder layer resident in memory with the calibration hidden states that enter it: what
// calibrated methods (AWQ, GPTQ) see through qf_layer and the "qf.calibration/1" services.
// Captured inputs and Gram matrices always reflect the current weights: a change marks those after
// it stale and the next request recomputes them. The layer's intermediate states are kept
// (ForwardStateCache, within a byte budget), so every capture and the propagation resume where the
// last forward stopped: a method that captures each input once and writes each group once costs
// one layer forward in all.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "distributed/collective.hpp"
#include "host/session.hpp"
#include "model/decoder_layer.hpp"
#include "pipeline/forward_state_cache.hpp"
#include "pipeline/phase_times.hpp"

namespace qf::pipeline {

class CalibratedLayer final : public qf_layer {
 public:
  // `inputs`: [blocks, seqlen, hidden] hidden states entering the layer (compute dtype).
  // `chunk`: blocks per forward, bounding activation memory. `phases` (optional) receives the time
  // spent in capture forwards, Gram accumulation and module forwards. `states`: where the layer's
  // intermediate states are kept (cleared now: they belong to this layer from here on); one with no
  // limit when null. A cache of budget 0 keeps nothing: every request forwards afresh.
  CalibratedLayer(model::DecoderLayer& layer, const model::Architecture& arch, const at::Tensor& inputs,
                  std::string prefix, int64_t chunk, PhaseTimes* phases = nullptr,
                  std::shared_ptr<ForwardStateCache> states = nullptr);

  // Long services (captures, module runs) ask `cancelled` between chunks and stop with
  // qf::Cancelled once it says so, so an interrupt is honoured within one chunk's forward.
  void set_cancel_check(std::function<bool()> cancelled) { cancelled_ = std::move(cancelled); }
  // A distributed run: `inputs` are this rank's share of the blocks, and the statistics over all
  // blocks (Gram matrices and token counts, the methods' sums) are summed across ranks.
  // `first_block`/`all_blocks`: where this rank's blocks lie among all of them.
  void set_distributed(dist::Collective* collective, int64_t first_block, int64_t all_blocks) {
    collective_ = collective;
    first_block_ = first_block;
    all_blocks_ = all_blocks;
  }
  // In place over the ranks (nothing in a single process); see qf_calibration_api.all_reduce_sum.
  void all_reduce_sum(at::Tensor& t);
  // Blocks per fp32 Gram piece (summed in fp64); forward chunks become whole multiples of it. A run
  // picks it from the block count alone, so one process and any number of ranks (whose shares
  // start on piece boundaries) form the same pieces and the same Gram matrices.
  void set_gram_granule(int64_t blocks);
  int64_t first_block() const { return first_block_; }
  int32_t rank() const { return collective_ ? collective_->rank() : 0; }
  int32_t ranks() const { return collective_ ? collective_->world_size() : 1; }
  int64_t all_blocks() const { return collective_ ? all_blocks_ : blocks(); }

  const std::vector<host::LinearDesc>& linears() const override { return linears_; }
  DLTensor read_weight(const std::string& short_name) override;
  DLTensor read_bias(const std::string& short_name) override;
  void write_weight(const std::string& short_name, const DLTensor& weight) override;

  // qf.calibration/1
  DLTensor captured_input(const std::string& short_name);
  DLTensor input_gram(const std::string& short_name, int64_t* tokens);
  void release_captured(const std::string& short_name);
  int64_t blocks() const { return inputs_.size(0); }
  int64_t block_length() const { return inputs_.size(1); }
  // `input` [tokens, in] (any float dtype); the output [tokens, out] fp32 goes into `out` when given
  // (shape checked), else into a new tensor. Returns the output.
  at::Tensor run_module(const std::string& module, const at::Tensor& input, at::Tensor out = {});
  void scale_previous_op(const std::string& prev_op, const std::vector<std::string>& linears, const at::Tensor& s);
  const std::vector<model::ScalingGroup>& scaling_groups() const { return groups_; }
  // C views of scaling_groups()[i].linears, alive as long as the layer.
  const std::vector<const char*>& scaling_group_names(size_t i) const { return group_names_[i]; }

  // The layer's output for every block with its current weights: [blocks, seqlen, hidden].
  at::Tensor forward_all();

  // Calibration blocks each piece of the forward has run on so far (captures and propagation, not
  // run_module): what the kept states save is visible here.
  struct ForwardWork {
    int64_t attention = 0;      // q/k/v and attention (attention_core)
    int64_t attention_out = 0;  // o_proj and the residual
    int64_t mlp = 0;            // gate/up and the activation
    int64_t mlp_out = 0;        // down_proj and the residual
  };
  const ForwardWork& forward_work() const { return work_; }

  const std::set<std::string>& replaced() const { return replaced_; }        // full ".weight" names
  const std::set<std::string>& scaled_modules() const { return scaled_; }    // layer-relative prev ops
  const std::string& prefix() const { return prefix_; }

 private:
  const host::LinearDesc& find(const std::string& short_name) const;
  // Drops what depends on input group `changed`'s weights (-1: everything).
  void stale(int changed);
  void stop_if_cancelled() const;
  // Where a forward can be cut: input group g's input (0..3), or the layer's output.
  static constexpr int kOutput = model::DecoderLayer::kInputGroups;
  // Runs every chunk of the blocks as far as `point`, resuming from the furthest kept state before
  // it and keeping the states the cache has room for; hands `use` each chunk's [B, T, width] tensor
  // there (compute dtype).
  void forward_to(int point, const std::function<void(const at::Tensor&)>& use);
  // Forwards every chunk as far as `short_name`'s input, handing it ([tokens, in]) to `use`;
  // returns the names of the linears sharing it.
  std::vector<std::string> capture_each_chunk(const std::string& short_name,
                                              const std::function<void(const at::Tensor&)>& use);

  model::DecoderLayer& layer_;
  at::Tensor inputs_;
  std::string prefix_;
  int64_t chunk_;
  PhaseTimes* phases_;
  std::function<bool()> cancelled_;
  std::shared_ptr<ForwardStateCache> states_;
  dist::Collective* collective_ = nullptr;
  int64_t first_block_ = 0, all_blocks_ = 0;
  int64_t granule_ = 1;
  ForwardWork work_;
  std::vector<host::LinearDesc> linears_;
  std::vector<model::ScalingGroup> groups_;
  std::vector<std::vector<const char*>> group_names_;
  std::map<std::string, at::Tensor> weight_views_;    // fp32 copies handed out
  std::map<std::string, at::Tensor> bias_views_;
  std::map<std::string, at::Tensor> captured_;        // short name -> [tokens, in] fp32
  std::map<std::string, at::Tensor> grams_;           // short name -> [in, in] fp32
  std::map<std::string, int64_t> gram_tokens_;
  std::set<std::string> replaced_;
  std::set<std::string> scaled_;
};

// The "qf.calibration/1" table; its functions expect a CalibratedLayer behind qf_layer*.
const qf_calibration_api* calibration_api();

}  // namespace qf::pipeline
