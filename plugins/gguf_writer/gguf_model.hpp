// What llama.cpp needs to know about the architecture: hyper-parameters from config.json, tensor
// names, the q/k row order of the llama architecture and llama3-style RoPE frequency factors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf_blocks.hpp"
#include "gguf_file.hpp"

namespace qf::gguf {

struct ModelFacts {
  std::string arch;  // GGUF architecture: "llama" (Llama, Mistral), "qwen2", "qwen3"
  std::string name;  // general.name: the model folder's name
  nlohmann::json config;
  int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
  bool tied_embeddings = false;
};

// Reads config.json of `model_dir`; an architecture llama.cpp does not run from our output (OPT,
// ...) is an error naming what is supported.
ModelFacts read_model_facts(const std::string& model_dir);

// general.architecture first, then the hyper-parameters as llama.cpp's converter writes them.
std::vector<KeyValue> architecture_metadata(const ModelFacts& m);

// The GGUF name of a checkpoint tensor ("model.layers.3.mlp.up_proj.weight" -> "blk.3.ffn_up.weight");
// nullopt for tensors llama.cpp does not use (rotary inv_freq). Unknown names are errors.
std::optional<std::string> tensor_name(const ModelFacts& m, const std::string& hf_name);

// Row order of a [rows, ...] tensor: llama's q_proj / k_proj rows are interleaved per head the way
// llama.cpp's RoPE expects (half-split to pairs); every other tensor keeps its rows.
RowMap row_map(const ModelFacts& m, const std::string& hf_name, int64_t rows);

// llama3-style RoPE: the per-frequency factors llama.cpp reads from rope_freqs.weight (empty when
// the model does not use it).
std::vector<float> llama3_rope_factors(const ModelFacts& m);

}  // namespace qf::gguf
