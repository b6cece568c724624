#include "gguf_model.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace qf::gguf {
namespace {

int64_t int_of(const nlohmann::json& c, const char* key, int64_t fallback = -1) {
  if (c.contains(key) && c[key].is_number_integer()) return c[key].get<int64_t>();
  if (fallback >= 0) return fallback;
  throw std::invalid_argument(std::string("config.json has no integer \"") + key + "\"");
}

double float_of(const nlohmann::json& c, const char* key, double fallback) {
  return c.contains(key) && c[key].is_number() ? c[key].get<double>() : fallback;
}

// transformers 5 moved rope_theta and rope_scaling under "rope_parameters".
const nlohmann::json* rope_parameters(const nlohmann::json& c) {
  if (c.contains("rope_parameters") && c["rope_parameters"].is_object()) return &c["rope_parameters"];
  if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) return &c["rope_scaling"];
  return nullptr;
}

std::string rope_type(const nlohmann::json& c) {
  const nlohmann::json* r = rope_parameters(c);
  if (!r) return "default";
  return r->value("rope_type", r->value("type", std::string("default")));
}

double rope_theta(const nlohmann::json& c) {
  const nlohmann::json* r = rope_parameters(c);
  if (r && r->contains("rope_theta")) return (*r)["rope_theta"].get<double>();
  return float_of(c, "rope_theta", 10000.0);
}

}  // namespace

ModelFacts read_model_facts(const std::string& model_dir) {
  const std::filesystem::path path = std::filesystem::path(model_dir) / "config.json";
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path.string());
  ModelFacts m;
  try {
    m.config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(path.string() + " is not valid JSON: " + e.what());
  }
  const std::string type = m.config.value("model_type", "");
  if (type == "llama" || type == "mistral")
    m.arch = "llama";
  else if (type == "qwen2" || type == "qwen3")
    m.arch = type;
  else
    throw std::invalid_argument("gguf_writer: model_type \"" + type +
                                "\" is not supported (GGUF output covers llama, mistral, qwen2 and qwen3; write "
                                "safetensors for this model)");
  m.name = std::filesystem::path(model_dir).filename().string();
  if (m.name.empty()) m.name = std::filesystem::path(model_dir).parent_path().filename().string();
  const nlohmann::json& c = m.config;
  m.layers = int_of(c, "num_hidden_layers");
  m.hidden = int_of(c, "hidden_size");
  m.heads = int_of(c, "num_attention_heads");
  m.kv_heads = int_of(c, "num_key_value_heads", m.heads);
  m.head_dim = c.contains("head_dim") && c["head_dim"].is_number_integer() ? c["head_dim"].get<int64_t>()
                                                                            : m.hidden / m.heads;
  m.vocab = int_of(c, "vocab_size");
  m.tied_embeddings = c.value("tie_word_embeddings", false);
  const std::string rope = rope_type(c);
  if (rope != "default" && rope != "llama3")
    throw std::invalid_argument("gguf_writer: rope type \"" + rope + "\" is not supported yet (default and llama3 are)");
  return m;
}

std::vector<KeyValue> architecture_metadata(const ModelFacts& m) {
  const nlohmann::json& c = m.config;
  const std::string a = m.arch;
  const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  std::vector<KeyValue> kv{
      {"general.architecture", a},
      {"general.type", std::string("model")},
      {"general.name", m.name},
      {a + ".block_count", u32(m.layers)},
      {a + ".context_length", u32(int_of(c, "max_position_embeddings"))},
      {a + ".embedding_length", u32(m.hidden)},
      {a + ".feed_forward_length", u32(int_of(c, "intermediate_size"))},
      {a + ".attention.head_count", u32(m.heads)},
      {a + ".attention.head_count_kv", u32(m.kv_heads)},
      {a + ".rope.freq_base", static_cast<float>(rope_theta(c))},
      {a + ".attention.layer_norm_rms_epsilon", static_cast<float>(float_of(c, "rms_norm_eps", 1e-6))},
  };
  if (c.contains("head_dim") && c["head_dim"].is_number_integer()) {
    kv.push_back({a + ".attention.key_length", u32(m.head_dim)});
    kv.push_back({a + ".attention.value_length", u32(m.head_dim)});
  }
  if (a == "llama") {
    kv.push_back({a + ".vocab_size", u32(m.vocab)});
    kv.push_back({a + ".rope.dimension_count", u32(m.head_dim)});
  }
  return kv;
}

std::optional<std::string> tensor_name(const ModelFacts& m, const std::string& hf) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  for (const auto& [from, to] : kTop)
    if (hf == from) return std::string(to);
  static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
  std::smatch match;
  if (std::regex_match(hf, match, kLayer)) {
    static const std::pair<const char*, const char*> kBlock[] = {
        {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"},
        {"self_attn.q_proj", "attn_q"},   {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},   {"self_attn.o_proj", "attn_output"},
        {"mlp.gate_proj", "ffn_gate"},    {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},    {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"},
    };
    const std::string module = match[2];
    for (const auto& [from, to] : kBlock)
      if (module == from && (m.arch == "qwen3" || module.find("_norm") == std::string::npos ||
                             module.find("layernorm") != std::string::npos))
        return "blk." + match[1].str() + "." + to + "." + match[3].str();
  }
  if (hf.find("rotary_emb.inv_freq") != std::string::npos) return std::nullopt;
  throw std::invalid_argument("gguf_writer: tensor " + hf + " has no GGUF name for architecture " + m.arch);
}

RowMap row_map(const ModelFacts& m, const std::string& hf, int64_t rows) {
  // `hf` is a tensor name (".weight", ".bias") or a quantized Linear's prefix.
  std::string module = hf;
  for (const std::string suffix : {".weight", ".bias"})
    if (module.size() > suffix.size() && module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0)
      module.resize(module.size() - suffix.size());
  const auto ends_with = [&](const std::string& s) {
    return module.size() >= s.size() && module.compare(module.size() - s.size(), s.size(), s) == 0;
  };
  int64_t heads = 0;
  if (m.arch == "llama" && ends_with("q_proj")) heads = m.heads;
  if (m.arch == "llama" && ends_with("k_proj")) heads = m.kv_heads;
  if (heads == 0) return [](int64_t r) { return r; };
  if (rows % (2 * heads) != 0) throw std::invalid_argument(hf + ": rows not divisible by 2 x heads");
  const int64_t per_head = rows / heads, half = per_head / 2;
  // Output row h*per_head + 2*j + t holds source row h*per_head + t*half + j.
  return [per_head, half](int64_t r) {
    const int64_t h = r / per_head, within = r % per_head;
    return h * per_head + (within % 2) * half + within / 2;
  };
}

std::vector<float> llama3_rope_factors(const ModelFacts& m) {
  if (m.arch != "llama" || rope_type(m.config) != "llama3") return {};
  const nlohmann::json& r = *rope_parameters(m.config);
  const float base = static_cast<float>(rope_theta(m.config));
  const float factor = r.value("factor", 8.0f), low = r.value("low_freq_factor", 1.0f),
              high = r.value("high_freq_factor", 4.0f);
  const float old_context = static_cast<float>(r.value("original_max_position_embeddings", 8192));
  const float low_wavelen = old_context / low, high_wavelen = old_context / high;
  const int64_t dim = m.head_dim;
  std::vector<float> out;
  for (int64_t i = 0; i < dim; i += 2) {  // float32 throughout, as the converter's torch scalars
    const float freq = 1.0f / std::pow(base, static_cast<float>(i) / static_cast<float>(dim));
    const float wavelen = 2.0f * static_cast<float>(M_PI) / freq;
    if (wavelen < high_wavelen)
      out.push_back(1.0f);
    else if (wavelen > low_wavelen)
      out.push_back(factor);
    else {
      const float smooth = (old_context / wavelen - low) / (high - low);
      out.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
    }
  }
  return out;
}

}  // namespace qf::gguf
