#pragma once
// How much memory a calibrated run (AWQ, GPTQ) needs on top of what the process already holds, and
// whether it fits: checked before the first layer, so a plan that cannot fit is refused with the
// figures and the flags that lower it instead of dying in the kernel's OOM killer hours later; and
// an allocation that still fails is reported with the same figures instead of a LibTorch backtrace.
//
// The estimate is the larger of the two peaks of the per-layer loop (S samples x T tokens, hidden
// H, intermediate I, compute dtype of c bytes; "activations" = one forward chunk's temporaries):
//   propagation: hidden states in + the chunk outputs + their concatenation (3 x S*T*H*c)
//                + activations + the resident layer
//   method:      hidden states (x2 when the next layer's input is computed before the method runs,
//                as AWQ does) + the resident layer with fp32 copies of its weights + activations +
//     AWQ  (captured inputs): max(the down_proj input S*T*I fp32 + 4 Gram-sized I*I fp32 (the host's
//                                 fp64 sum counts twice, its fp32 piece, the method's copy),
//                                 a group's input, its copy and two [S*T, H] fp32 outputs)
//     GPTQ (Gram matrices):   the widest input's Grams and the solver's copies: 7 x I*I fp32, or
//                             q/k/v's three Grams + the host's + the solver's: 9 x H*H fp32,
//                             + 4 fp32 copies of the largest weight
//     other methods: the larger of the two.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/config.hpp"

namespace qf::pipeline {

enum class CalibrationUse { CapturedInputs, InputGrams, Unknown };

// Built-in methods by plugin name: "awq" captures inputs, "gptq" works from Gram matrices.
CalibrationUse calibration_use_of(const std::string& method_plugin);

struct CalibrationShape {
  int64_t samples = 0, seqlen = 0;
  int64_t hidden = 0, intermediate = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t compute_bytes = 4;  // 4 fp32, 2 bf16
  int64_t chunk = 1;          // blocks per layer forward
  CalibrationUse use = CalibrationUse::Unknown;
  bool two_hidden_states = false;  // the next layer's input exists while the method runs (AWQ)

  static CalibrationShape of(const model::ModelConfig& config, int64_t samples, int64_t seqlen, int64_t compute_bytes,
                             int64_t chunk, CalibrationUse use, bool propagate_quantized);
  std::string describe() const;  // "128 samples x 512 tokens, hidden 896, intermediate 4864, bf16"
};

struct MemoryEstimate {
  struct Part {
    std::string what;
    double bytes = 0;
  };
  double total = 0;              // bytes at the peak
  std::string phase;             // "during the propagation forwards" or "while the method runs"
  std::vector<Part> parts;       // what the peak is made of
  std::string describe() const;  // "while the method runs: hidden states 2 x 112 MiB, ..."
};

// Pure: the figures above for one shape.
MemoryEstimate estimate_calibration_memory(const CalibrationShape& shape);

struct AvailableMemory {
  std::optional<double> bytes;  // empty when it cannot be read
  std::string source;           // "MemAvailable in /proc/meminfo", "the cgroup limit ...", the variable
};

// $QUANTFORGE_AVAILABLE_MEMORY (bytes, or with a K/M/G/T suffix; meant for tests and for overriding a
// wrong reading) when set, else the smaller of MemAvailable and the cgroup's limit minus its usage
// (cgroup v2 memory.max / memory.current, or v1 memory.limit_in_bytes / memory.usage_in_bytes).
AvailableMemory available_memory();
// Parsers of those files' contents; empty when absent or unlimited ("max", v1's huge values).
std::optional<double> parse_mem_available(const std::string& meminfo);
std::optional<double> parse_cgroup_bytes(const std::string& text);
std::optional<double> parse_memory_size(const std::string& text);  // "1536", "512M", "2G", "1.5T"

// One plan per run: the shape, its estimate and what was available when it was made.
struct CalibrationMemoryPlan {
  CalibrationShape shape;
  MemoryEstimate estimate;
  AvailableMemory available;

  bool fits() const { return !available.bytes || estimate.total <= *available.bytes; }
  // Bytes the layer's kept forward states (ForwardStateCache) may take: half of what is left once
  // the estimate's peak is set aside, so keeping them never turns a plan that fits into one that
  // does not; 0 when the available memory is unknown. $QUANTFORGE_FORWARD_STATE_BYTES (a size as for
  // $QUANTFORGE_AVAILABLE_MEMORY) overrides it: 0 recomputes every capture from the layer's input.
  int64_t forward_state_budget() const;
  // "lower --num_samples (at most 40 fit at --seqlen 512) or --seqlen (at most 160 with 128 samples)"
  std::string advice() const;
  std::string refusal() const;                                 // the plan cannot fit
  std::string out_of_memory(const std::string& detail) const;  // an allocation failed anyway
};

CalibrationMemoryPlan plan_calibration_memory(const CalibrationShape& shape, const AvailableMemory& available);

// Logs the estimate; qf::Error (refusal()) when it does not fit what is available now.
CalibrationMemoryPlan check_calibration_memory(const model::ModelConfig& config, int64_t samples, int64_t seqlen,
                                               int64_t compute_bytes, int64_t chunk, const std::string& method_plugin,
                                               bool propagate_quantized);

// Runs `body`; an allocation failure inside it becomes qf::Error(plan.out_of_memory(...)) with no
// backtrace. Any other exception passes through unchanged.
void explain_allocation_failures(const CalibrationMemoryPlan& plan, const std::function<void()>& body);

}  // namespace qf::pipeline
