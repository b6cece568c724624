#pragma once
// Model hyper-parameters read from a Hugging Face config.json. Accepts both the transformers-4
// spelling (rope_theta, rope_scaling, torch_dtype) and the transformers-5 one (rope_parameters, dtype),
// so checkpoints saved by either version load the same way.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace qf::model {

enum class RopeType { None, Default, Linear, Dynamic, Llama3 };

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double factor = 1.0;                          // linear / dynamic / llama3
  double low_freq_factor = 1.0;                 // llama3
  double high_freq_factor = 4.0;                // llama3
  int64_t original_max_position_embeddings = 0; // llama3 / dynamic (0: use max_position_embeddings)
  double partial_rotary_factor = 1.0;           // fraction of head_dim that is rotated
};

struct ModelConfig {
  std::string model_type;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;  // OPT: ffn_dim
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;       // defaults to num_heads
  int64_t head_dim = 0;           // explicit, else hidden_size / num_heads
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double norm_eps = 1e-6;         // rms_norm_eps; OPT's LayerNorm uses 1e-5
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool attention_bias = false;    // llama/qwen3 attention_bias; OPT enable_bias
  bool mlp_bias = false;          // llama mlp_bias; OPT enable_bias
  std::string hidden_act = "silu";
  std::string dtype;              // "bfloat16", "float16", "float32" or "" when absent
  std::optional<int64_t> sliding_window;  // Mistral/Qwen: only honoured as "ignored for seq <= window"

  int64_t rotary_dim() const;     // head_dim * partial_rotary_factor, even
};

// `source` names the file in error messages.
ModelConfig parse_config(const nlohmann::json& j, const std::string& source);
// Reads `<dir>/config.json` (or the file itself when a file is given).
ModelConfig load_config(const std::filesystem::path& dir_or_file);

}  // namespace qf::model
