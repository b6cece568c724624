#pragma once
// One decoder layer resident in memory: its weights are copied out of the checkpoint (converted to
// the compute dtype) when it is constructed and freed when it is destroyed, so a model streams one
// layer at a time. Besides forward() it offers the hooks quantization methods need.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/architecture.hpp"
#include "model/compute.hpp"
#include "model/config.hpp"
#include "model/fused_linear.hpp"
#include "model/norm.hpp"

namespace qf::model {

class WeightSource;

struct LinearInfo {
  std::string name;  // layer-relative, e.g. "self_attn.q_proj"
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool has_bias = false;
};

// Called once per group of linears that read the same input (q/k/v, o, gate/up, down), with that
// input [B, T, in] in the compute dtype. The tensor is not modified afterwards; keep it if needed.
// (To stop a forward early, use the pieces below instead, as the calibration host does.)
using CaptureFn = std::function<void(const std::vector<std::string>& linears, const at::Tensor& input)>;

class DecoderLayer {
 public:
  DecoderLayer(const ModelConfig& config, const Architecture& arch, const WeightSource& src, int64_t index,
               const ComputeOptions& options);
  DecoderLayer(DecoderLayer&&) = default;
  DecoderLayer& operator=(DecoderLayer&&) = default;

  int64_t index() const { return index_; }
  at::ScalarType dtype() const { return options_.dtype; }  // the compute dtype
  // hidden: [B, T, hidden] (converted to the compute dtype if needed) -> [B, T, hidden].
  at::Tensor forward(const at::Tensor& hidden, const CaptureFn& capture = {}) const;

  // ---- the forward in pieces, cut where linears read their inputs, so a caller can keep an
  // intermediate state and resume from it; forward(h) computes exactly (same operations)
  //   x = attention_input(h); a = attention_core(x); r = attention_residual(h, a);
  //   act = mlp_activation(mlp_input(r)); out = mlp_residual(r, act).
  // Arguments are [B, T, width] in the compute dtype.
  at::Tensor attention_input(const at::Tensor& h) const { return input_norm_(h); }   // q/k/v's input
  at::Tensor attention_core(const at::Tensor& x) const;                             // o_proj's input
  at::Tensor attention_residual(const at::Tensor& h, const at::Tensor& a) const;    // h + o_proj(a)
  at::Tensor mlp_input(const at::Tensor& r) const { return post_norm_(r); }         // gate/up's input
  at::Tensor mlp_activation(const at::Tensor& x) const;                             // down_proj's input
  at::Tensor mlp_residual(const at::Tensor& r, const at::Tensor& act) const;        // r + down_proj(act)
  // The linears of each input group in forward order: 0 q/k/v, 1 o_proj, 2 gate/up (fc1), 3 down (fc2).
  static constexpr int kInputGroups = 4;
  const std::vector<std::string>& input_group(int g) const;
  int input_group_of(const std::string& linear) const;  // qf::Error naming the linear when unknown

  // ---- hooks for quantization methods (names are layer-relative) ----
  std::vector<LinearInfo> linears() const;  // in module-registration order
  // A view of the resident weight [out, in] (bias [out] or undefined): writing to it changes the layer.
  at::Tensor weight(const std::string& linear) const;
  at::Tensor bias(const std::string& linear) const;
  // A norm of this layer by layer-relative name ("input_layernorm", ...); nullptr when it is not one.
  const Norm* norm(const std::string& name) const;
  // Copies `w` (and `b` when defined) into the resident weight, converting the dtype; shapes must match.
  void set_weight(const std::string& linear, const at::Tensor& w, const at::Tensor& b = {});
  // Each linear's input from one forward; linears sharing an input map to the same tensor.
  std::map<std::string, at::Tensor> capture_inputs(const at::Tensor& hidden, at::Tensor* output = nullptr) const;
  // Runs a sub-module on its own input: the attention module (input = normed hidden, output after
  // o_proj), the MLP module (input = normed hidden, output after down_proj) or a single linear.
  at::Tensor run_module(const std::string& module, const at::Tensor& input) const;
  // AWQ scale application: prev_op (a norm or a linear) output divided by s, then the input columns
  // of every linear in `linears` multiplied by s, so the layer computes the same function.
  void scale(const std::string& prev_op, const std::vector<std::string>& linears, const at::Tensor& s);
  std::vector<ScalingGroup> awq_groups() const { return qf::model::awq_groups(arch_, config_); }
  const std::vector<std::vector<std::string>>& gptq_groups() const { return arch_.gptq_groups; }

 private:
  // The fused group holding `linear` and its member index; qf::Error naming it when unknown.
  std::pair<FusedLinear*, int> find(const std::string& linear);
  std::pair<const FusedLinear*, int> find(const std::string& linear) const;
  Norm* find_norm(const std::string& name);

  ModelConfig config_;
  Architecture arch_;
  ComputeOptions options_;
  int64_t index_ = 0;
  Norm input_norm_, post_norm_;
  std::optional<Norm> q_norm_, k_norm_;
  FusedLinear qkv_, o_, up_, down_;  // up_ = [gate, up] (SiluGated) or [fc1] (Relu)
};

}  // namespace qf::model
