#pragma once
// The checkpoint must hold exactly the tensors that config.json and the architecture describe, with
// the shapes they imply. Run once before any work, for every method: a mismatch then fails with one
// clear message instead of an unloadable output or a crash halfway through the layers.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qf::st {
class Checkpoint;
}
namespace qf::model {
struct ModelConfig;
struct Architecture;
}  // namespace qf::model

namespace qf::pipeline {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::string meaning;    // where the shape comes from, e.g. "[hidden_size (256)]"
  bool optional = false;  // lm_head of a model with tied embeddings
};

// Every tensor the model needs, in model order: embeddings, then each decoder layer, then the
// final norm and lm_head.
std::vector<ExpectedTensor> expected_tensors(const model::ModelConfig& config, const model::Architecture& arch);

// Throws qf::Error naming `config_file` when a tensor is missing or has another shape than the one
// the config implies, or when the checkpoint holds tensors nothing would use (the first few named,
// with their count). Buffers transformers itself ignores on load (rotary inv_freq) are allowed.
void check_checkpoint_matches_config(const st::Checkpoint& ckpt, const model::ModelConfig& config,
                                     const model::Architecture& arch, const std::filesystem::path& config_file);

}  // namespace qf::pipeline
