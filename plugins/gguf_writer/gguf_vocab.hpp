// The vocabulary a GGUF carries (tokenizer.ggml.model / tokens / token_type / scores / merges), built
// from the model's own tokenizer files the way llama.cpp's converter builds it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace qf::gguf {

// llama.cpp's token types (llama_token_type).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Vocabulary {
  std::string model;                // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::vector<std::string> tokens;  // by id
  std::vector<int32_t> types;       // by id
  std::vector<float> scores;        // by id; "llama" only
  std::vector<std::string> merges;  // "a b"; "gpt2" only
};

// Added tokens llama.cpp's converter treats as control tokens even when not marked special.
bool looks_special(const std::string& token);

// The two parts of one tokenizer.json merge, written "a b" (split at the first space) or ["a", "b"];
// any other form is an error.
std::pair<std::string, std::string> merge_parts(const nlohmann::json& merge);

// A SentencePiece-style tokenizer.json: a BPE model with byte fallback (Llama 2, Mistral v0.1, ...),
// not Llama 3's byte-level one.
bool is_sentencepiece_bpe(const nlohmann::json& tokenizer_json);

// "gpt2": tokens by id, types (special added tokens and <|...|>-style ones are control tokens, other
// added tokens user-defined, ids the files lack up to `vocab_size` "[PAD<id>]" unused), merges.
Vocabulary byte_level_vocab(const nlohmann::json& tokenizer_json, int64_t vocab_size);

// "llama" from a SentencePiece model file (tokenizer.model): each piece's text, score and type as the
// file stores them (user-defined pieces typed normal, as the converter types them), then added_tokens.json and tokenizer_config.json's
// added_tokens_decoder on top (score -1000; control when special, else user-defined with "▁" read as
// a space), ids up to `vocab_size` filled with unused "[PAD<id>]" (score -10000).
Vocabulary sentencepiece_vocab_from_model(const std::filesystem::path& model_file, const std::filesystem::path& dir,
                                          const nlohmann::json& tokenizer_config, int64_t vocab_size);

// "llama" from a SentencePiece-style tokenizer.json alone (no tokenizer.model): byte tokens "<0xXX>"
// are byte tokens (score 0), added tokens as above, and every other token scores minus the rank of
// the first merge that forms it (tokens no merge forms score below all of those). llama.cpp's
// SentencePiece tokenizer merges the adjacent pair whose result scores highest, so it then merges in
// the order of the BPE ranks, as transformers does.
Vocabulary sentencepiece_vocab_from_json(const nlohmann::json& tokenizer_json, int64_t vocab_size);

}  // namespace qf::gguf
