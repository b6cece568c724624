#pragma once
// Architectures as data: one Architecture entry per supported model_type says where the tensors
// are, which norm/activation/biases a decoder layer has, and how AWQ and GPTQ group its linears.
// Adding a Llama-like architecture is adding one entry in architecture.cpp.
#include <string>
#include <vector>

namespace qf::model {

struct ModelConfig;

enum class NormKind { RMSNorm, LayerNorm };
enum class Activation { SiluGated, Relu };  // SiluGated: down(silu(gate(x)) * up(x)); Relu: fc2(relu(fc1(x)))
// Whether a projection carries a bias: fixed by the architecture, or read from the config.
enum class BiasRule { No, Yes, AttentionBiasFlag, MlpBiasFlag };

// When an AWQ scaling group applies. AutoAWQ adds v->o only when v_proj.weight.shape ==
// o_proj.weight.shape, i.e. kv_heads*head_dim == hidden == heads*head_dim (no GQA).
enum class GroupCondition { Always, VShapeEqualsOShape };

struct ScalingGroup {
  std::string prev_op;               // norm or Linear whose output feeds `linears` (layer-relative)
  std::vector<std::string> linears;  // share one input; scaled together
  std::string inspect;               // module whose output defines the loss; "" = the single linear
  GroupCondition condition = GroupCondition::Always;
};

struct Architecture {
  std::string model_type;
  // Model-level tensor names (full names).
  std::string layer_prefix;     // "model.layers." -> "model.layers.<i>.<relative>"
  std::string embed_tokens;     // weight name
  std::string embed_positions;  // "" when the model uses RoPE
  int64_t position_offset = 0;  // OPT's learned positions start at row 2
  std::string final_norm;       // module name (".weight"/".bias" appended)
  std::string lm_head;          // weight name; tied models may lack it
  // Layer-relative module names.
  NormKind norm = NormKind::RMSNorm;
  Activation activation = Activation::SiluGated;
  std::string input_norm, post_attention_norm;
  std::string q_proj, k_proj, v_proj, o_proj;
  std::string gate_proj, up_proj, down_proj;  // gate_proj empty for Relu (up=fc1, down=fc2)
  std::string q_norm, k_norm;                 // per-head RMSNorm (Qwen3); empty when absent
  std::string attention_module, mlp_module;   // names accepted by run_module()
  BiasRule qkv_bias = BiasRule::No, o_bias = BiasRule::No, mlp_bias = BiasRule::No;
  std::vector<ScalingGroup> awq_groups;
  std::vector<std::vector<std::string>> gptq_groups;  // "true sequential" order
};

// Throws qf::Error naming `source` and listing the supported types when unknown.
const Architecture& find_architecture(const std::string& model_type, const std::string& source = "config.json");
std::vector<std::string> supported_model_types();

bool has_bias(BiasRule rule, const ModelConfig& config);
// The AWQ groups that apply to this config (drops v->o when the shapes differ).
std::vector<ScalingGroup> awq_groups(const Architecture& arch, const ModelConfig& config);

}  // namespace qf::model
