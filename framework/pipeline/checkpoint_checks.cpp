#include "pipeline/checkpoint_checks.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "common/error.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "safetensors/reader.hpp"

namespace qf::pipeline {
namespace {

// How many names an "unused tensors" message lists before "and N more".
constexpr size_t kNamesListed = 5;

// One dimension of an expected shape and the config keys it comes from, e.g. {256, "hidden_size (256)"}.
struct Dim {
  int64_t size;
  std::string why;
};

Dim key(const char* name, int64_t value) { return {value, std::string(name) + " (" + std::to_string(value) + ")"}; }

Dim product(const char* a, int64_t va, const char* b, int64_t vb) {
  return {va * vb, std::string(a) + " x " + b + " (" + std::to_string(va) + " x " + std::to_string(vb) + ")"};
}

class Expectations {
 public:
  void add(const std::string& name, const std::vector<Dim>& dims, bool optional = false) {
    ExpectedTensor t{name, {}, "[", optional};
    for (size_t i = 0; i < dims.size(); ++i) {
      t.shape.push_back(dims[i].size);
      t.meaning += (i ? ", " : "") + dims[i].why;
    }
    t.meaning += "]";
    list.push_back(std::move(t));
  }
  // A Linear: weight [out, in], plus bias [out] when the config gives it one.
  void linear(const std::string& name, const Dim& out, const Dim& in, bool bias) {
    add(name + ".weight", {out, in});
    if (bias) add(name + ".bias", {out});
  }
  void norm(const std::string& module, model::NormKind kind, const Dim& dim) {
    add(module + ".weight", {dim});
    if (kind == model::NormKind::LayerNorm) add(module + ".bias", {dim});
  }
  std::vector<ExpectedTensor> list;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// transformers drops these buffers on load; checkpoints saved by older versions still carry them.
bool ignored_on_load(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string file_holding(const st::Checkpoint& ckpt, const std::string& name) {
  for (const auto& f : ckpt.files())
    if (f->find(name)) return f->path().string();
  return "the checkpoint";
}

// The decoder layer index of a name under the layer prefix ("model.layers.7.mlp..." -> 7).
std::optional<int64_t> layer_index(const std::string& name, const std::string& layer_prefix) {
  if (name.rfind(layer_prefix, 0) != 0) return std::nullopt;
  size_t pos = layer_prefix.size(), end = pos;
  while (end < name.size() && std::isdigit(static_cast<unsigned char>(name[end]))) ++end;
  if (end == pos || end - pos > 9 || end >= name.size() || name[end] != '.') return std::nullopt;
  return std::stoll(name.substr(pos, end - pos));
}

std::string and_more(size_t others, const std::string& what) {
  return others == 0 ? "" : " (and " + std::to_string(others) + " more " + what + ")";
}

[[noreturn]] void report_unused(const std::vector<std::string>& unused, const model::ModelConfig& config,
                                const model::Architecture& arch, const std::string& config_file) {
  std::string names;
  for (size_t i = 0; i < std::min(unused.size(), kNamesListed); ++i) names += (i ? ", " : "") + unused[i];
  if (unused.size() > kNamesListed) names += ", ... (" + std::to_string(unused.size() - kNamesListed) + " more)";
  int64_t last_layer = -1;
  for (const auto& n : unused)
    if (auto i = layer_index(n, arch.layer_prefix)) last_layer = std::max(last_layer, *i);
  std::string hint = "is " + config_file + " the one that belongs to these weights?";
  if (last_layer >= config.num_layers)
    hint = "the checkpoint has decoder layers up to index " + std::to_string(last_layer) + " but " + config_file +
           " says num_hidden_layers " + std::to_string(config.num_layers) + ": fix num_hidden_layers";
  const bool one = unused.size() == 1;
  throw Error(std::to_string(unused.size()) + " checkpoint tensor" + (one ? " is" : "s are") +
              " not part of the model " + config_file + " describes, so nothing would use " + (one ? "it" : "them") +
              ": " + names + "; " + hint);
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const model::ModelConfig& c, const model::Architecture& arch) {
  using model::has_bias;
  Expectations e;
  const Dim hidden = key("hidden_size", c.hidden_size);
  const Dim vocab = key("vocab_size", c.vocab_size);
  const Dim inter = key(c.model_type == "opt" ? "ffn_dim" : "intermediate_size", c.intermediate_size);
  const Dim head = key("head_dim", c.head_dim);
  const Dim q_out = product("num_attention_heads", c.num_heads, "head_dim", c.head_dim);
  const Dim kv_out = product("num_key_value_heads", c.num_kv_heads, "head_dim", c.head_dim);

  e.add(arch.embed_tokens, {vocab, hidden});
  if (!arch.embed_positions.empty()) {
    const int64_t rows = c.max_position_embeddings + arch.position_offset;
    e.add(arch.embed_positions, {{rows, "max_position_embeddings + " + std::to_string(arch.position_offset) + " (" +
                                            std::to_string(rows) + ")"},
                                 hidden});
  }
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = arch.layer_prefix + std::to_string(i) + ".";
    e.norm(p + arch.input_norm, arch.norm, hidden);
    const bool qkv_bias = has_bias(arch.qkv_bias, c);
    e.linear(p + arch.q_proj, q_out, hidden, qkv_bias);
    e.linear(p + arch.k_proj, kv_out, hidden, qkv_bias);
    e.linear(p + arch.v_proj, kv_out, hidden, qkv_bias);
    e.linear(p + arch.o_proj, hidden, q_out, has_bias(arch.o_bias, c));
    if (!arch.q_norm.empty()) {
      e.norm(p + arch.q_norm, model::NormKind::RMSNorm, head);
      e.norm(p + arch.k_norm, model::NormKind::RMSNorm, head);
    }
    e.norm(p + arch.post_attention_norm, arch.norm, hidden);
    const bool mlp_bias = has_bias(arch.mlp_bias, c);
    if (!arch.gate_proj.empty()) e.linear(p + arch.gate_proj, inter, hidden, mlp_bias);
    e.linear(p + arch.up_proj, inter, hidden, mlp_bias);
    e.linear(p + arch.down_proj, hidden, inter, mlp_bias);
  }
  e.norm(arch.final_norm, arch.norm, hidden);
  // With tied embeddings transformers reuses embed_tokens; a stored lm_head is then allowed, not needed.
  e.add(arch.lm_head, {vocab, hidden}, c.tie_word_embeddings);
  return e.list;
}

void check_checkpoint_matches_config(const st::Checkpoint& ckpt, const model::ModelConfig& config,
                                     const model::Architecture& arch, const std::filesystem::path& config_file) {
  const std::string cfg = config_file.string();
  const auto expected = expected_tensors(config, arch);
  std::set<std::string> described;
  std::string first_problem;
  size_t problems = 0;
  for (const auto& t : expected) {
    described.insert(t.name);
    std::string problem;
    if (!ckpt.contains(t.name)) {
      if (t.optional) continue;
      problem = cfg + " describes tensor '" + t.name + "' " + shape_text(t.shape) + " = " + t.meaning +
                ", but the checkpoint has no such tensor";
      if (t.name == arch.lm_head) problem += " (and tie_word_embeddings is false)";
    } else if (const auto& shape = ckpt.get(t.name).info->shape; shape != t.shape) {
      problem = "tensor '" + t.name + "' in " + file_holding(ckpt, t.name) + " has shape " + shape_text(shape) +
                ", but " + cfg + " needs " + shape_text(t.shape) + " = " + t.meaning;
    }
    if (problem.empty()) continue;
    if (problems++ == 0) first_problem = problem;
  }
  if (problems)
    throw Error(first_problem + and_more(problems - 1, problems == 2 ? "tensor differs" : "tensors differ") +
                "; the checkpoint and its config.json do not match");

  std::vector<std::string> unused;
  for (const auto& name : ckpt.names())
    if (!described.count(name) && !ignored_on_load(name)) unused.push_back(name);
  if (!unused.empty()) report_unused(unused, config, arch, cfg);
}

}  // namespace qf::pipeline
