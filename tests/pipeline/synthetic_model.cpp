#include "synthetic_model.hpp"

#include <ATen/ATen.h>

#include <fstream>
#include <sstream>

#include "safetensors/writer.hpp"

namespace fs = std::filesystem;

namespace qf::test {

SyntheticModel make_synthetic_llama(const fs::path& dir, uint64_t seed) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  at::manual_seed(seed);
  const int64_t hidden = 256, inter = 384, vocab = 96, kv = 128;
  SyntheticModel m{dir, {}};
  auto add = [&](const std::string& name, std::vector<int64_t> shape, double scale) {
    m.tensors[name] = (at::randn(shape) * scale).to(at::kBFloat16).contiguous();
  };
  add("model.embed_tokens.weight", {vocab, hidden}, 0.5);
  add("model.norm.weight", {hidden}, 1.0);
  add("lm_head.weight", {vocab, hidden}, 0.05);
  for (int i = 0; i < 2; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {hidden}, 1.0);
    add(p + "post_attention_layernorm.weight", {hidden}, 1.0);
    add(p + "self_attn.q_proj.weight", {hidden, hidden}, 0.05);
    add(p + "self_attn.k_proj.weight", {kv, hidden}, 0.05);
    add(p + "self_attn.v_proj.weight", {kv, hidden}, 0.05);
    add(p + "self_attn.o_proj.weight", {hidden, hidden}, 0.05);
    add(p + "mlp.gate_proj.weight", {inter, hidden}, 0.05);
    add(p + "mlp.up_proj.weight", {inter, hidden}, 0.05);
    add(p + "mlp.down_proj.weight", {hidden, inter}, 0.05);
  }
  // A constant group and an all-zero row exercise the quantizers' edge cases.
  m.tensors["model.layers.0.self_attn.q_proj.weight"][0].fill_(0);
  m.tensors["model.layers.1.mlp.up_proj.weight"][3].slice(0, 0, 128).fill_(0.25);

  st::ShardedWriter writer(700000, dir);
  for (const auto& [name, t] : m.tensors)
    writer.add(name, st::DType::BF16, t.sizes().vec(), t.data_ptr(), static_cast<size_t>(t.nbytes()));
  const auto shards = writer.finish([&](size_t i, size_t n) { return dir / st::shard_file_name("model", "", i, n); });
  if (shards.size() > 1) st::write_index(dir / "model.safetensors.index.json", shards);

  std::ofstream(dir / "config.json") << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
 "hidden_size": 256, "intermediate_size": 384, "num_hidden_layers": 2, "num_attention_heads": 4,
 "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
 "rope_theta": 10000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";
  std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "<s>"})";
  std::ofstream(dir / "generation_config.json") << R"({"bos_token_id": 1})";
  return m;
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[e.path().filename().string()] = ss.str();
  }
  return out;
}

}  // namespace qf::test
