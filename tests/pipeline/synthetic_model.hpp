#pragma once
// A small seeded random Llama-style checkpoint written with our own safetensors writer, for
// end-to-end runs that must not depend on the fixtures.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace qf::test {

struct SyntheticModel {
  std::filesystem::path dir;
  std::map<std::string, at::Tensor> tensors;  // as stored (bf16)
};

// 2 layers, hidden 256, 4 heads / 2 KV heads, intermediate 384, vocab 96; two shards + index,
// config.json, tokenizer_config.json and generation_config.json.
SyntheticModel make_synthetic_llama(const std::filesystem::path& dir, uint64_t seed);

// Byte contents of every regular file in dir, for "nothing was modified" checks.
std::map<std::string, std::string> snapshot(const std::filesystem::path& dir);

}  // namespace qf::test
