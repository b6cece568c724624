// Writes a randomly initialised Qwen2 model (tied embeddings, q/k/v biases, bf16) for the end-to-end
// quantization benchmarks, in one of two shapes:
//   qwen2.5-0.5b  Qwen2.5-0.5B's dimensions: hidden 896, intermediate 4864, 14 query / 2 key-value
//                 heads of 64, vocab 151936;
//   hidden512     a small model where the work that is not a GEMM weighs most: hidden 512,
//                 intermediate 1792, 8 query / 2 key-value heads of 64, vocab 4096 (8 layers: 29M
//                 parameters).
// Weights ~ N(0, 0.02) like transformers' initializer_range, norms 1; the tokenizer files are copied
// from another model folder (its token ids must stay below the shape's vocab).
//   make_synthetic_model OUT_DIR --layers N --tokenizer-from DIR [--shape NAME] [--seed S]
#include <ATen/ATen.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetensors/writer.hpp"

namespace fs = std::filesystem;

namespace {

struct Shape {
  const char* name;
  int64_t hidden, inter, heads, kv_heads, head_dim, vocab, bos;
};

constexpr Shape kShapes[] = {
    {"qwen2.5-0.5b", 896, 4864, 14, 2, 64, 151936, 151643},
    {"hidden512", 512, 1792, 8, 2, 64, 4096, 1},  // bos as the tiny-llama tokenizer
};

nlohmann::json qwen2_config(const Shape& s, int64_t layers) {
  return {{"architectures", {"Qwen2ForCausalLM"}},
          {"model_type", "qwen2"},
          {"hidden_size", s.hidden},
          {"intermediate_size", s.inter},
          {"num_hidden_layers", layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", 32768},
          {"rms_norm_eps", 1e-6},
          {"rope_theta", 1000000.0},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", true},
          {"use_sliding_window", false},
          {"sliding_window", 32768},
          {"max_window_layers", 21},
          {"attention_dropout", 0.0},
          {"initializer_range", 0.02},
          {"bos_token_id", s.bos},
          {"eos_token_id", s.bos},
          {"torch_dtype", "bfloat16"}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: make_synthetic_model OUT_DIR --layers N --tokenizer-from DIR [--shape qwen2.5-0.5b|hidden512]"
                 " [--seed S]\n");
    return 2;
  }
  const fs::path out = argv[1];
  int64_t layers = 24, seed = 0;
  fs::path tokenizer_from;
  const Shape* shape = &kShapes[0];
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--layers")) layers = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--tokenizer-from")) tokenizer_from = argv[i + 1];
    else if (!std::strcmp(argv[i], "--shape")) {
      shape = nullptr;
      for (const Shape& s : kShapes)
        if (!std::strcmp(argv[i + 1], s.name)) shape = &s;
      if (!shape) {
        std::fprintf(stderr, "unknown --shape %s (qwen2.5-0.5b or hidden512)\n", argv[i + 1]);
        return 2;
      }
    }
  }
  if (tokenizer_from.empty() || !fs::exists(tokenizer_from / "tokenizer.json")) {
    std::fprintf(stderr, "--tokenizer-from must name a folder with tokenizer.json\n");
    return 2;
  }
  const int64_t kHidden = shape->hidden, kInter = shape->inter, kHeads = shape->heads, kKvHeads = shape->kv_heads,
                kHeadDim = shape->head_dim, kVocab = shape->vocab;
  at::manual_seed(static_cast<uint64_t>(seed));
  fs::create_directories(out);

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto add = [&](const std::string& name, at::Tensor t) { tensors.emplace_back(name, t.to(at::kBFloat16).contiguous()); };
  auto normal = [](std::vector<int64_t> shape) { return at::randn(shape) * 0.02; };
  add("model.embed_tokens.weight", normal({kVocab, kHidden}));
  add("model.norm.weight", at::ones({kHidden}));
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", at::ones({kHidden}));
    add(p + "post_attention_layernorm.weight", at::ones({kHidden}));
    add(p + "self_attn.q_proj.weight", normal({kHeads * kHeadDim, kHidden}));
    add(p + "self_attn.q_proj.bias", normal({kHeads * kHeadDim}));
    add(p + "self_attn.k_proj.weight", normal({kKvHeads * kHeadDim, kHidden}));
    add(p + "self_attn.k_proj.bias", normal({kKvHeads * kHeadDim}));
    add(p + "self_attn.v_proj.weight", normal({kKvHeads * kHeadDim, kHidden}));
    add(p + "self_attn.v_proj.bias", normal({kKvHeads * kHeadDim}));
    add(p + "self_attn.o_proj.weight", normal({kHidden, kHeads * kHeadDim}));
    add(p + "mlp.gate_proj.weight", normal({kInter, kHidden}));
    add(p + "mlp.up_proj.weight", normal({kInter, kHidden}));
    add(p + "mlp.down_proj.weight", normal({kHidden, kInter}));
  }
  std::vector<qf::st::TensorRef> refs;
  for (const auto& [name, t] : tensors)
    refs.push_back({name, qf::st::DType::BF16, t.sizes().vec(), t.data_ptr(), static_cast<size_t>(t.nbytes())});
  qf::st::write_file(out / "model.safetensors", refs);
  std::ofstream(out / "config.json") << qwen2_config(*shape, layers).dump(2) << "\n";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(tokenizer_from / f)) fs::copy_file(tokenizer_from / f, out / f, fs::copy_options::overwrite_existing);
  std::printf("wrote %s: qwen2 (%s), %lld layers, %zu tensors\n", out.c_str(), shape->name,
              static_cast<long long>(layers), refs.size());
  return 0;
}
