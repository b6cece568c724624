#pragma once
// The intermediate states of one decoder layer's forward over every calibration block, kept so the
// captures a method asks for and the propagation to the next layer cost one layer forward between
// them instead of one (partial) forward each:
//   kAttention = o_proj's input (depends on the q/k/v weights),
//   kResidual  = hidden + o_proj(attention) (depends on q/k/v and o_proj),
//   kActivation = down_proj's input (depends on q/k/v, o_proj and gate/up).
// Norm outputs are not kept: recomputing one is a single cheap pass.
//
// A state stays usable while the weights it was computed with are in the layer. A write that puts
// back exactly those weights (AWQ's scale search tries candidates and restores the original) keeps
// it usable, so the cache remembers the weights of a linear the first time one of its dependent
// states could be invalidated, and compares on every later write. Memory is bounded by a byte budget:
// a state that does not fit is not kept and is recomputed from an earlier one when asked for.
// One cache serves a run's layers in turn: clear() forgets the states but keeps their memory for
// the next layer, whose states have the same shapes, so the pages are touched once per run rather
// than faulted in and zeroed again for every layer (a measured 5% of a GPTQ run).
#include <ATen/core/Tensor.h>

#include <array>
#include <map>
#include <string>

namespace qf::pipeline {

class ForwardStateCache {
 public:
  enum Slot { kAttention = 0, kResidual = 1, kActivation = 2 };
  static constexpr int kSlots = 3;
  // Input group g (0 q/k/v, 1 o_proj, 2 gate/up, 3 down) feeds slot g and later ones.
  static bool depends_on(Slot s, int input_group) { return input_group <= static_cast<int>(s); }

  explicit ForwardStateCache(int64_t budget_bytes) : budget_(budget_bytes) {}

  // The state when it is complete and computed with the weights now in the layer; else undefined.
  at::Tensor usable(Slot s) const;

  // Starts recomputing slot s with the weights now in the layer: drops states computed with
  // weights that have changed since and, when `bytes` fits the budget, returns an empty tensor of
  // `sizes` for the caller to fill block by block, then commit(); otherwise undefined (not kept).
  at::Tensor begin_fill(Slot s, at::IntArrayRef sizes, at::ScalarType dtype);
  void commit(Slot s);

  // Around every write to a linear's weight (`current` = the weight in the layer, a view).
  void before_write(const std::string& linear, int input_group, const at::Tensor& current);
  void after_write(const std::string& linear, const at::Tensor& current);

  // Everything changed (a norm was rescaled, or the next layer begins): no state is usable any
  // more; the memory stays for reuse.
  void clear();

  int64_t bytes_held() const;  // states and buffers kept for reuse

 private:
  struct State {
    at::Tensor value;
    bool complete = false;
  };
  struct Basis {
    int input_group = 0;
    at::Tensor weight;     // what the kept states were computed with
    bool differs = false;  // the layer now holds something else
  };
  bool stale(Slot s) const;

  int64_t budget_;
  std::array<State, kSlots> states_;
  std::array<at::Tensor, kSlots> buffers_;  // the memory behind each slot, reused across layers
  std::map<std::string, Basis> basis_;
};

}  // namespace qf::pipeline
