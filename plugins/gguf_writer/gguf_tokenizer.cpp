#include "gguf_tokenizer.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "gguf_add_tokens.hpp"
#include "pre_tokenizer_hashes.hpp"

namespace qf::gguf {
namespace {

enum TokenType : int32_t { kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5 };

nlohmann::json read_json(const std::filesystem::path& p, bool required) {
  std::ifstream in(p);
  if (!in) {
    if (required) throw std::invalid_argument("gguf_writer needs " + p.string() + " (the tokenizer goes into the GGUF)");
    return nlohmann::json::object();
  }
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(p.string() + " is not valid JSON: " + e.what());
  }
}

// llama.cpp's converter treats these added tokens as control tokens even when not marked special.
bool looks_special(const std::string& t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  const auto wrapped = [&](const std::string& open, const std::string& close) {
    return t.size() >= open.size() + close.size() && t.compare(0, open.size(), open) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wrapped("<unused", ">");
}

bool has_byte_level(const nlohmann::json& node) {
  if (node.is_object()) {
    if (node.value("type", "") == "ByteLevel") return true;
    for (const auto& [k, v] : node.items()) {
      (void)k;
      if (has_byte_level(v)) return true;
    }
  } else if (node.is_array()) {
    for (const auto& v : node)
      if (has_byte_level(v)) return true;
  }
  return false;
}

// The Split patterns of a pre_tokenizer (a Sequence or a single Split).
std::vector<std::string> split_patterns(const nlohmann::json& pre) {
  std::vector<std::string> out;
  const auto one = [&](const nlohmann::json& p) {
    if (p.is_object() && p.value("type", "") == "Split" && p.contains("pattern") && p["pattern"].contains("Regex"))
      out.push_back(p["pattern"]["Regex"].get<std::string>());
  };
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers"))
    for (const auto& p : pre["pretokenizers"]) one(p);
  else
    one(pre);
  return out;
}

// The split regexes of the Llama 3 and Qwen2 tokenizers (their tokenizer.json patterns).
const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
const char* const kQwen2Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

std::optional<int64_t> added_token_id(const nlohmann::json& tok, const nlohmann::json& cfg, const char* key) {
  const std::string text = config_token(cfg, key);
  if (text.empty()) return std::nullopt;
  for (const auto& a : tok.value("added_tokens", nlohmann::json::array()))
    if (a.value("content", "") == text) return a.value("id", int64_t{-1});
  const auto& vocab = tok["model"]["vocab"];
  if (vocab.contains(text)) return vocab[text].get<int64_t>();
  return std::nullopt;
}

}  // namespace

std::string ids_hash(const std::vector<int32_t>& ids) {
  std::string text = "[";
  for (size_t i = 0; i < ids.size(); ++i) text += (i ? ", " : "") + std::to_string(ids[i]);
  text += "]";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::string pre_tokenizer_name(const nlohmann::json& tok, const Encoder& encode) {
  const std::string hash = ids_hash(encode(kPreTokenizerCheckText));
  for (const auto& known : kPreTokenizerHashes)
    if (hash == known.sha256) return known.name;
  const nlohmann::json pre = tok.value("pre_tokenizer", nlohmann::json());
  const std::vector<std::string> patterns = split_patterns(pre);
  if (patterns.empty() && pre.is_object() && pre.value("type", "") == "ByteLevel" && pre.value("use_regex", true))
    return "gpt-2";  // GPT-2's own regex inside ByteLevel
  if (patterns.size() == 1 && patterns[0] == kLlama3Pattern) return "llama-bpe";
  if (patterns.size() == 1 && patterns[0] == kQwen2Pattern) return "qwen2";
  throw std::invalid_argument("gguf_writer: the tokenizer's pre-tokenizer (ids hash " + hash +
                              ") is not one llama.cpp knows, so llama.cpp would split text differently");
}

std::vector<KeyValue> tokenizer_metadata(const std::string& model_dir, const ModelFacts& m, const Encoder& encode) {
  const std::filesystem::path dir(model_dir);
  const nlohmann::json tok = read_json(dir / "tokenizer.json", true);
  const nlohmann::json cfg = read_json(dir / "tokenizer_config.json", false);
  const nlohmann::json& model = tok["model"];
  if (model.value("type", "") != "BPE" || !has_byte_level(tok))
    throw std::invalid_argument("gguf_writer: only byte-level BPE tokenizers (Llama 3, Qwen, GPT-2 style) are supported; "
                                "this tokenizer.json has model type \"" + model.value("type", std::string()) +
                                "\" without byte-level pre-tokenization (SentencePiece-style vocabularies are not "
                                "supported yet)");
  const int64_t n = std::max<int64_t>(m.vocab, static_cast<int64_t>(model["vocab"].size()));
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int32_t> types(static_cast<size_t>(n), kUnused);
  std::vector<bool> known(static_cast<size_t>(n), false);
  for (const auto& [text, id] : model["vocab"].items()) {
    const int64_t i = id.get<int64_t>();
    if (i < 0 || i >= n) continue;
    tokens[static_cast<size_t>(i)] = text;
    types[static_cast<size_t>(i)] = kNormal;
    known[static_cast<size_t>(i)] = true;
  }
  for (const auto& a : tok.value("added_tokens", nlohmann::json::array())) {
    const int64_t i = a.value("id", int64_t{-1});
    if (i < 0 || i >= n) continue;
    const std::string text = a.value("content", "");
    tokens[static_cast<size_t>(i)] = text;
    types[static_cast<size_t>(i)] = (a.value("special", false) || looks_special(text)) ? kControl : kUserDefined;
    known[static_cast<size_t>(i)] = true;
  }
  for (int64_t i = 0; i < n; ++i)
    if (!known[static_cast<size_t>(i)]) tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";

  std::vector<std::string> merges;
  for (const auto& mg : model.value("merges", nlohmann::json::array())) {
    if (mg.is_string()) {
      merges.push_back(mg.get<std::string>());
    } else if (mg.is_array() && mg.size() == 2) {
      std::string parts[2];
      for (int k = 0; k < 2; ++k)  // a literal space inside a part is written as U+0120, as the converter does
        for (char c : mg[k].get<std::string>()) parts[k] += c == ' ' ? std::string("\xC4\xA0") : std::string(1, c);
      merges.push_back(parts[0] + " " + parts[1]);
    } else {
      throw std::invalid_argument("tokenizer.json: unknown merges format");
    }
  }
  std::vector<KeyValue> kv{{"tokenizer.ggml.model", std::string("gpt2")},
                           {"tokenizer.ggml.pre", pre_tokenizer_name(tok, encode)},
                           {"tokenizer.ggml.tokens", tokens},
                           {"tokenizer.ggml.token_type", types}};
  if (!merges.empty()) kv.push_back({"tokenizer.ggml.merges", merges});
  const auto special = [&](const char* cfg_key, const char* config_key, const char* gguf_key) {
    std::optional<int64_t> id = added_token_id(tok, cfg, cfg_key);
    if (!id && m.config.contains(config_key) && m.config[config_key].is_number_integer())
      id = m.config[config_key].get<int64_t>();
    if (id && *id >= 0) kv.push_back({gguf_key, static_cast<uint32_t>(*id)});
  };
  special("bos_token", "bos_token_id", "tokenizer.ggml.bos_token_id");
  special("eos_token", "eos_token_id", "tokenizer.ggml.eos_token_id");
  special("unk_token", "unk_token_id", "tokenizer.ggml.unknown_token_id");
  special("pad_token", "pad_token_id", "tokenizer.ggml.padding_token_id");
  for (const auto& [kind, add] : add_special_tokens(tok, cfg))
    kv.push_back({"tokenizer.ggml.add_" + kind + "_token", add});
  std::string chat_template;
  if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) chat_template = cfg["chat_template"];
  if (chat_template.empty()) {
    std::ifstream jinja(dir / "chat_template.jinja");
    if (jinja) chat_template.assign(std::istreambuf_iterator<char>(jinja), std::istreambuf_iterator<char>());
  }
  if (!chat_template.empty()) kv.push_back({"tokenizer.chat_template", chat_template});
  return kv;
}

}  // namespace qf::gguf
