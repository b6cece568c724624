#include "model/config.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/architecture.hpp"

namespace qf::model {
namespace {

using nlohmann::json;

struct Reader {
  const json& j;
  const std::string& source;

  [[noreturn]] void bad(const std::string& key, const std::string& why) const {
    throw Error(source + ": key '" + key + "' " + why);
  }
  bool has(const char* key) const { return j.contains(key) && !j.at(key).is_null(); }
  int64_t integer(const char* key) const {
    if (!has(key)) bad(key, "is required");
    const json& v = j.at(key);
    if (!v.is_number_integer()) bad(key, "must be an integer");
    return v.get<int64_t>();
  }
  int64_t integer(const char* key, int64_t def) const { return has(key) ? integer(key) : def; }
  // Sizes are checked as they are read: a zero or negative one would otherwise divide by zero or
  // allocate nonsense further on.
  int64_t positive(const char* key) const { return require_positive(key, integer(key)); }
  int64_t positive(const char* key, int64_t def) const { return has(key) ? positive(key) : def; }
  int64_t require_positive(const char* key, int64_t v) const {
    if (v <= 0) bad(key, "must be a positive integer, got " + std::to_string(v));
    return v;
  }
  double number(const json& obj, const char* key, double def) const {
    if (!obj.contains(key) || obj.at(key).is_null()) return def;
    if (!obj.at(key).is_number()) bad(key, "must be a number");
    return obj.at(key).get<double>();
  }
  double number(const char* key, double def) const { return number(j, key, def); }
  double positive_number(const json& obj, const char* key, double def) const {
    const double v = number(obj, key, def);
    if (!(v > 0.0)) bad(key, "must be a positive number, got " + json(v).dump());
    return v;
  }
  std::string string_in(const json& obj, const char* key, const std::string& def) const {
    if (!obj.contains(key) || obj.at(key).is_null()) return def;
    if (!obj.at(key).is_string()) bad(key, "must be a string");
    return obj.at(key).get<std::string>();
  }
  bool boolean(const char* key, bool def) const {
    if (!has(key)) return def;
    if (!j.at(key).is_boolean()) bad(key, "must be true or false");
    return j.at(key).get<bool>();
  }
  std::string string(const char* key, const std::string& def) const {
    if (!has(key)) return def;
    if (!j.at(key).is_string()) bad(key, "must be a string");
    return j.at(key).get<std::string>();
  }
};

RopeType parse_rope_type(const std::string& name, const std::string& source) {
  if (name == "default") return RopeType::Default;
  if (name == "linear") return RopeType::Linear;
  if (name == "dynamic") return RopeType::Dynamic;
  if (name == "llama3") return RopeType::Llama3;
  throw Error(source + ": rope type '" + name +
              "' is not supported (supported: default, linear, dynamic, llama3)");
}

// transformers-5 keeps everything in `rope_parameters`; transformers-4 has `rope_theta` at the
// top level and an optional `rope_scaling` dict whose type key is `rope_type` or the older `type`.
RopeConfig parse_rope(const Reader& r, int64_t max_pos) {
  RopeConfig rope;
  rope.theta = r.positive_number(r.j, "rope_theta", 10000.0);
  rope.partial_rotary_factor = r.number("partial_rotary_factor", 1.0);
  const json* params = nullptr;
  if (r.has("rope_parameters")) params = &r.j.at("rope_parameters");
  else if (r.has("rope_scaling")) params = &r.j.at("rope_scaling");
  if (params) {
    if (!params->is_object()) r.bad(r.has("rope_parameters") ? "rope_parameters" : "rope_scaling", "must be an object");
    const std::string type = r.string_in(*params, "rope_type", r.string_in(*params, "type", "default"));
    rope.type = parse_rope_type(type, r.source);
    rope.theta = r.positive_number(*params, "rope_theta", rope.theta);
    rope.partial_rotary_factor = r.number(*params, "partial_rotary_factor", rope.partial_rotary_factor);
    rope.factor = r.positive_number(*params, "factor", 1.0);
    rope.low_freq_factor = r.positive_number(*params, "low_freq_factor", 1.0);
    rope.high_freq_factor = r.positive_number(*params, "high_freq_factor", 4.0);
    rope.original_max_position_embeddings = static_cast<int64_t>(
        r.positive_number(*params, "original_max_position_embeddings", static_cast<double>(max_pos)));
  }
  if (rope.original_max_position_embeddings == 0) rope.original_max_position_embeddings = max_pos;
  if (rope.partial_rotary_factor <= 0.0 || rope.partial_rotary_factor > 1.0)
    r.bad("partial_rotary_factor", "must be in (0, 1]");
  return rope;
}

// head_dim when the config does not give it: hidden_size split evenly over the heads.
int64_t derived_head_dim(const Reader& r, const ModelConfig& c) {
  if (c.hidden_size % c.num_heads != 0)
    r.bad("hidden_size", "(" + std::to_string(c.hidden_size) + ") must be divisible by num_attention_heads (" +
                             std::to_string(c.num_heads) + ") when head_dim is not given");
  return c.hidden_size / c.num_heads;
}

void parse_opt(const Reader& r, ModelConfig& c) {
  c.hidden_size = r.positive("hidden_size");
  c.intermediate_size = r.positive("ffn_dim");
  c.num_heads = r.positive("num_attention_heads");
  c.num_kv_heads = c.num_heads;
  c.head_dim = derived_head_dim(r, c);
  c.max_position_embeddings = r.positive("max_position_embeddings", 2048);
  c.norm_eps = 1e-5;  // OPT's nn.LayerNorm default
  c.rope.type = RopeType::None;
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  c.attention_bias = c.mlp_bias = r.boolean("enable_bias", true);
  c.hidden_act = r.string("activation_function", "relu");
  if (c.hidden_act != "relu") r.bad("activation_function", "'" + c.hidden_act + "' is not supported (only relu)");
  if (!r.boolean("do_layer_norm_before", true))
    r.bad("do_layer_norm_before", "is false: post-LayerNorm OPT (e.g. opt-350m) is not supported");
  if (r.integer("word_embed_proj_dim", c.hidden_size) != c.hidden_size)
    r.bad("word_embed_proj_dim", "differs from hidden_size: OPT project_in/project_out is not supported");
  if (!r.boolean("layer_norm_elementwise_affine", true))
    r.bad("layer_norm_elementwise_affine", "is false: LayerNorm without affine parameters is not supported");
  if (r.boolean("_remove_final_layer_norm", false))
    r.bad("_remove_final_layer_norm", "is true: not supported");
}

void parse_llama_like(const Reader& r, ModelConfig& c) {
  c.hidden_size = r.positive("hidden_size");
  c.intermediate_size = r.positive("intermediate_size");
  c.num_heads = r.positive("num_attention_heads");
  c.num_kv_heads = r.positive("num_key_value_heads", c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    r.bad("num_key_value_heads", "(" + std::to_string(c.num_kv_heads) + ") must divide num_attention_heads (" +
                                     std::to_string(c.num_heads) + ")");
  // Qwen3Config defaults head_dim to 128; the others derive it.
  if (r.has("head_dim")) c.head_dim = r.positive("head_dim");
  else c.head_dim = c.model_type == "qwen3" ? 128 : derived_head_dim(r, c);
  c.max_position_embeddings = r.positive("max_position_embeddings", 2048);
  c.norm_eps = r.positive_number(r.j, "rms_norm_eps", 1e-6);
  c.rope = parse_rope(r, c.max_position_embeddings);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = r.boolean("attention_bias", false);
  c.mlp_bias = r.boolean("mlp_bias", false);
  c.hidden_act = r.string("hidden_act", "silu");
  if (c.hidden_act != "silu") r.bad("hidden_act", "'" + c.hidden_act + "' is not supported (only silu)");
  // Mistral always has a window; Qwen2/3 only when use_sliding_window is set.
  bool window = c.model_type == "mistral" || r.boolean("use_sliding_window", false);
  if (window && r.has("sliding_window")) c.sliding_window = r.positive("sliding_window");
  if (c.rotary_dim() < 2)
    r.bad("partial_rotary_factor", "leaves no dimension to rotate (head_dim " + std::to_string(c.head_dim) + " x " +
                                       json(c.rope.partial_rotary_factor).dump() + ")");
}

}  // namespace

int64_t ModelConfig::rotary_dim() const {
  auto d = static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  return d - d % 2;
}

ModelConfig parse_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  Reader r{j, source};
  ModelConfig c;
  c.model_type = r.string("model_type", "");
  find_architecture(c.model_type, source);  // throws listing the supported types
  c.num_layers = r.positive("num_hidden_layers");
  c.vocab_size = r.positive("vocab_size");
  c.dtype = r.has("dtype") ? r.string("dtype", "") : r.string("torch_dtype", "");
  if (c.model_type == "opt") parse_opt(r, c);
  else parse_llama_like(r, c);
  return c;
}

ModelConfig load_config(const std::filesystem::path& dir_or_file) {
  auto path = std::filesystem::is_directory(dir_or_file) ? dir_or_file / "config.json" : dir_or_file;
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw Error(path.string() + ": invalid JSON: " + e.what());
  }
  return parse_config(j, path.string());
}

}  // namespace qf::model
