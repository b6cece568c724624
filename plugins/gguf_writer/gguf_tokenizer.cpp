#include "gguf_tokenizer.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "gguf_special_tokens.hpp"
#include "gguf_vocab.hpp"
#include "pre_tokenizer_hashes.hpp"

namespace qf::gguf {
namespace {

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

namespace {

// Which vocabulary the files hold, in the converter's order of preference: a SentencePiece model file
// first, then a SentencePiece-style tokenizer.json, then a byte-level BPE one.
Vocabulary read_vocabulary(const std::filesystem::path& dir, const nlohmann::json& tok, const nlohmann::json& cfg,
                           const ModelFacts& m) {
  if (std::filesystem::is_regular_file(dir / "tokenizer.model"))
    return sentencepiece_vocab_from_model(dir / "tokenizer.model", dir, cfg, m.vocab);
  const nlohmann::json model = tok.value("model", nlohmann::json::object());
  if (is_sentencepiece_bpe(tok)) return sentencepiece_vocab_from_json(tok, m.vocab);
  if (model.value("type", "") == "BPE" && has_byte_level(tok)) return byte_level_vocab(tok, m.vocab);
  throw std::invalid_argument("gguf_writer: the tokenizer is neither byte-level BPE (Llama 3, Qwen, GPT-2 style) nor "
                              "SentencePiece-style BPE with byte fallback (Llama 2, Mistral): tokenizer.json has "
                              "model type \"" + model.value("type", std::string()) + "\" and no tokenizer.model");
}

const char* special_key(const std::string& kind) {
  static const std::map<std::string, const char*> kKeys{
      {"bos", "tokenizer.ggml.bos_token_id"},     {"eos", "tokenizer.ggml.eos_token_id"},
      {"eot", "tokenizer.ggml.eot_token_id"},     {"eom", "tokenizer.ggml.eom_token_id"},
      {"unk", "tokenizer.ggml.unknown_token_id"}, {"sep", "tokenizer.ggml.seperator_token_id"},  // sic: llama.cpp's key
      {"pad", "tokenizer.ggml.padding_token_id"}, {"mask", "tokenizer.ggml.mask_token_id"}};
  return kKeys.at(kind);
}

// tokenizer_config.json's chat_template, else chat_template.jinja, else chat_template.json's.
std::string chat_template(const std::filesystem::path& dir, const nlohmann::json& cfg) {
  if (cfg.contains("chat_template") && cfg["chat_template"].is_string()) return cfg["chat_template"];
  if (std::ifstream jinja(dir / "chat_template.jinja"); jinja)
    return std::string(std::istreambuf_iterator<char>(jinja), std::istreambuf_iterator<char>());
  const nlohmann::json from_json = read_json(dir / "chat_template.json", false);
  if (from_json.contains("chat_template") && from_json["chat_template"].is_string()) return from_json["chat_template"];
  return {};
}

}  // namespace

std::vector<KeyValue> tokenizer_metadata(const std::string& model_dir, const ModelFacts& m, const Encoder& encode) {
  const std::filesystem::path dir(model_dir);
  const nlohmann::json tok = read_json(dir / "tokenizer.json", !std::filesystem::is_regular_file(dir / "tokenizer.model"));
  const nlohmann::json cfg = read_json(dir / "tokenizer_config.json", false);
  const Vocabulary vocab = read_vocabulary(dir, tok, cfg, m);

  std::vector<KeyValue> kv;
  // For the llama architecture, when the config says so, as the converter writes it (llama.cpp's default
  // for SentencePiece vocabularies is to add the space).
  if (m.arch == "llama" && cfg.contains("add_prefix_space") && cfg["add_prefix_space"].is_boolean())
    kv.push_back({"tokenizer.ggml.add_space_prefix", cfg["add_prefix_space"].get<bool>()});
  kv.push_back({"tokenizer.ggml.model", vocab.model});
  kv.push_back({"tokenizer.ggml.pre", vocab.model == "llama" ? std::string("default") : pre_tokenizer_name(tok, encode)});
  kv.push_back({"tokenizer.ggml.tokens", vocab.tokens});
  if (!vocab.scores.empty()) kv.push_back({"tokenizer.ggml.scores", vocab.scores});
  kv.push_back({"tokenizer.ggml.token_type", vocab.types});
  if (!vocab.merges.empty()) kv.push_back({"tokenizer.ggml.merges", vocab.merges});
  const SpecialTokens special = special_tokens(tok, cfg, m.config, static_cast<int64_t>(vocab.tokens.size()));
  for (const auto& [kind, id] : special.ids) kv.push_back({special_key(kind), id});
  for (const auto& [kind, add] : special.add) kv.push_back({"tokenizer.ggml.add_" + kind + "_token", add});
  if (cfg.is_object() && !cfg.empty())  // the converter reads templates only beside a tokenizer_config.json
    if (std::string t = chat_template(dir, cfg); !t.empty()) kv.push_back({"tokenizer.chat_template", t});
  return kv;
}

}  // namespace qf::gguf
