#include "model/architecture.hpp"

#include "common/error.hpp"
#include "model/config.hpp"

namespace qf::model {
namespace {

// Llama, Mistral, Qwen2 and Qwen3 share names and groups; they differ in biases and q/k norms.
Architecture llama_like(std::string type, BiasRule qkv, BiasRule o, BiasRule mlp, bool qk_norm) {
  Architecture a;
  a.model_type = std::move(type);
  a.layer_prefix = "model.layers.";
  a.embed_tokens = "model.embed_tokens.weight";
  a.final_norm = "model.norm";
  a.lm_head = "lm_head.weight";
  a.norm = NormKind::RMSNorm;
  a.activation = Activation::SiluGated;
  a.input_norm = "input_layernorm";
  a.post_attention_norm = "post_attention_layernorm";
  a.q_proj = "self_attn.q_proj";
  a.k_proj = "self_attn.k_proj";
  a.v_proj = "self_attn.v_proj";
  a.o_proj = "self_attn.o_proj";
  a.gate_proj = "mlp.gate_proj";
  a.up_proj = "mlp.up_proj";
  a.down_proj = "mlp.down_proj";
  if (qk_norm) {
    a.q_norm = "self_attn.q_norm";
    a.k_norm = "self_attn.k_norm";
  }
  a.attention_module = "self_attn";
  a.mlp_module = "mlp";
  a.qkv_bias = qkv;
  a.o_bias = o;
  a.mlp_bias = mlp;
  // AutoAWQ awq/models/llama.py (qwen2/mistral/qwen3 identical), docs/awq.md#scaling-groups.
  a.awq_groups = {
      {a.input_norm, {a.q_proj, a.k_proj, a.v_proj}, a.attention_module, GroupCondition::Always},
      {a.v_proj, {a.o_proj}, "", GroupCondition::VShapeEqualsOShape},
      {a.post_attention_norm, {a.gate_proj, a.up_proj}, a.mlp_module, GroupCondition::Always},
      {a.up_proj, {a.down_proj}, "", GroupCondition::Always},
  };
  a.gptq_groups = {{a.q_proj, a.k_proj, a.v_proj}, {a.o_proj}, {a.gate_proj, a.up_proj}, {a.down_proj}};
  return a;
}

Architecture opt() {
  Architecture a;
  a.model_type = "opt";
  a.layer_prefix = "model.decoder.layers.";
  a.embed_tokens = "model.decoder.embed_tokens.weight";
  a.embed_positions = "model.decoder.embed_positions.weight";
  a.position_offset = 2;
  a.final_norm = "model.decoder.final_layer_norm";
  a.lm_head = "lm_head.weight";
  a.norm = NormKind::LayerNorm;
  a.activation = Activation::Relu;
  a.input_norm = "self_attn_layer_norm";
  a.post_attention_norm = "final_layer_norm";
  a.q_proj = "self_attn.q_proj";
  a.k_proj = "self_attn.k_proj";
  a.v_proj = "self_attn.v_proj";
  a.o_proj = "self_attn.out_proj";
  a.up_proj = "fc1";
  a.down_proj = "fc2";
  a.attention_module = "self_attn";
  a.mlp_module = "mlp";  // virtual: fc1 -> relu -> fc2 (OPT has no mlp submodule)
  a.qkv_bias = a.o_bias = BiasRule::AttentionBiasFlag;
  a.mlp_bias = BiasRule::MlpBiasFlag;
  // AutoAWQ awq/models/opt.py: v->out_proj unconditional; fc1->fc2 valid because ReLU is homogeneous.
  a.awq_groups = {
      {a.input_norm, {a.q_proj, a.k_proj, a.v_proj}, a.attention_module, GroupCondition::Always},
      {a.v_proj, {a.o_proj}, "", GroupCondition::Always},
      {a.post_attention_norm, {a.up_proj}, "", GroupCondition::Always},
      {a.up_proj, {a.down_proj}, "", GroupCondition::Always},
  };
  a.gptq_groups = {{a.q_proj, a.k_proj, a.v_proj}, {a.o_proj}, {a.up_proj}, {a.down_proj}};
  return a;
}

const std::vector<Architecture>& table() {
  static const std::vector<Architecture> t = {
      llama_like("llama", BiasRule::AttentionBiasFlag, BiasRule::AttentionBiasFlag, BiasRule::MlpBiasFlag, false),
      llama_like("mistral", BiasRule::No, BiasRule::No, BiasRule::No, false),
      llama_like("qwen2", BiasRule::Yes, BiasRule::No, BiasRule::No, false),
      llama_like("qwen3", BiasRule::AttentionBiasFlag, BiasRule::AttentionBiasFlag, BiasRule::No, true),
      opt(),
  };
  return t;
}

}  // namespace

std::vector<std::string> supported_model_types() {
  std::vector<std::string> names;
  for (const auto& a : table()) names.push_back(a.model_type);
  return names;
}

const Architecture& find_architecture(const std::string& model_type, const std::string& source) {
  for (const auto& a : table())
    if (a.model_type == model_type) return a;
  std::string list;
  for (const auto& n : supported_model_types()) list += (list.empty() ? "" : ", ") + n;
  throw Error(source + ": model_type '" + model_type + "' is not supported (supported: " + list + ")");
}

bool has_bias(BiasRule rule, const ModelConfig& config) {
  switch (rule) {
    case BiasRule::No: return false;
    case BiasRule::Yes: return true;
    case BiasRule::AttentionBiasFlag: return config.attention_bias;
    case BiasRule::MlpBiasFlag: return config.mlp_bias;
  }
  return false;
}

std::vector<ScalingGroup> awq_groups(const Architecture& arch, const ModelConfig& config) {
  std::vector<ScalingGroup> out;
  for (const auto& g : arch.awq_groups)
    if (g.condition == GroupCondition::Always ||
        (config.num_kv_heads * config.head_dim == config.hidden_size &&
         config.num_heads * config.head_dim == config.hidden_size))
      out.push_back(g);
  return out;
}

}  // namespace qf::model
