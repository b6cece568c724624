#pragma once
// Hugging Face tokenizer.json reader that matches the Rust `tokenizers` library (BPE models:
// byte-level GPT-2 / Llama-3 / Qwen2 style and SentencePiece-style Metaspace + byte fallback).
// tokenizer_config.json, when given, supplies bos/eos tokens and add_bos/add_eos.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qf::tok {

class Tokenizer {
 public:
  // dir/tokenizer.json (required) and dir/tokenizer_config.json (optional).
  static Tokenizer from_dir(const std::filesystem::path& dir);
  // tokenizer_config may be empty (no config). Errors are qf::Error naming the file and JSON key.
  static Tokenizer from_files(const std::filesystem::path& tokenizer_json,
                              const std::filesystem::path& tokenizer_config = {});

  // Text must be UTF-8; invalid sequences are replaced by U+FFFD first. add_special_tokens applies the
  // post-processor (e.g. BOS), exactly as tokenizers' encode(text, add_special_tokens) does.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // The post-processor step alone, on ids encoded without special tokens:
  // add_special_tokens(encode(t, false)) == encode(t, true). A no-op without a post-processor.
  void add_special_tokens(std::vector<int32_t>& ids) const;
  // The fixed ids the post-processor puts before / after the text (e.g. {1} = "<s>" for Llama-2).
  const std::vector<int32_t>& special_prefix() const;
  const std::vector<int32_t>& special_suffix() const;
  // Unknown ids are skipped (as tokenizers does).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  // add_bos_token / add_eos_token from tokenizer_config.json; without them, whether the
  // post-processor's template puts a special token before / after the text.
  bool add_bos() const;
  bool add_eos() const;
  // add_bos_token / add_eos_token exactly as tokenizer_config.json states them (empty when absent).
  // transformers 5 encodes with tokenizer.json's post-processor even where these disagree with it.
  std::optional<bool> config_add_bos_token() const;
  std::optional<bool> config_add_eos_token() const;
  // 1 + the largest id of the vocab and the added tokens.
  int32_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Empty string for an unknown id.
  std::string id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace qf::tok
