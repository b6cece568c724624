// The tokenizer keys llama.cpp reads (tokenizer.ggml.*), from the model's tokenizer.model,
// tokenizer.json and tokenizer_config.json: byte-level BPE vocabularies ("gpt2": Llama 3, Qwen2/3, ...)
// and SentencePiece-style ones ("llama": Llama 2, Mistral, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf_file.hpp"
#include "gguf_model.hpp"

namespace qf::gguf {

// Encodes text with the model's own tokenizer, special tokens added (what the host offers).
using Encoder = std::function<std::vector<int32_t>(const std::string& text)>;

// Which llama.cpp pre-tokenizer name the vocabulary has: the converter's hash of the ids of a fixed
// text, or, for a vocabulary llama.cpp has not listed, the name of the same splitting rules
// (GPT-2's byte-level regex, Llama 3's or Qwen2's split pattern). Errors say what is unknown.
std::string pre_tokenizer_name(const nlohmann::json& tokenizer_json, const Encoder& encode);

// SHA-256 of the Python text of a list of ids ("[1, 2, 3]"), as llama.cpp's converter hashes them.
std::string ids_hash(const std::vector<int32_t>& ids);

std::vector<KeyValue> tokenizer_metadata(const std::string& model_dir, const ModelFacts& m, const Encoder& encode);

}  // namespace qf::gguf
