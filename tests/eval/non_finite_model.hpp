#pragma once
// A copy of a fixture model with one weight element replaced (NaN or Inf), written with the
// project's safetensors writer: the broken checkpoints `quantforge eval` must diagnose.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>

namespace qf::test {

// Copies `src`'s config.json and generation_config.json (and `tokenizer_dir`'s tokenizer files when
// given) into `dst` and writes every tensor of `src` into dst/model.safetensors, with element
// [row, 0] of `tensor` set to `value`.
void write_model_with_bad_weight(const std::filesystem::path& src, const std::filesystem::path& dst,
                                 const std::string& tensor, int64_t row, float value,
                                 const std::filesystem::path& tokenizer_dir = {});

}  // namespace qf::test
