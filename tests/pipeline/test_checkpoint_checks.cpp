// The checkpoint-vs-config check on its own: every fixture passes (tied embeddings, Qwen2 q/k/v
// biases, OPT's layout with learned positions and LayerNorm biases, Qwen3 q/k norms, an absent tied
// lm_head), and each kind of mismatch is one clear error.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <set>

#include "broken_model.hpp"
#include "support/temp_dir.hpp"
#include "common/error.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "pipeline/checkpoint_checks.hpp"
#include "safetensors/reader.hpp"

namespace fs = std::filesystem;

namespace {

const char* const kFixtures[] = {"tiny-llama", "llama-random", "mistral-random", "opt-random", "qwen2-random",
                                 "qwen3-random"};

// The check's error for the model in dir ("" when it passes).
std::string check_error(const fs::path& dir) {
  const auto config = qf::model::load_config(dir);
  try {
    qf::pipeline::check_checkpoint_matches_config(qf::st::Checkpoint::open(dir), config,
                                                  qf::model::find_architecture(config.model_type),
                                                  dir / "config.json");
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every fixture holds exactly the tensors its config describes", "[pipeline][checkpoint-checks]") {
  for (const char* fixture : kFixtures) {
    CAPTURE(fixture);
    const fs::path dir = fs::path(QF_TEST_DATA_DIR) / "models" / fixture;
    CHECK(check_error(dir).empty());
    const auto config = qf::model::load_config(dir);
    const auto expected = qf::pipeline::expected_tensors(config, qf::model::find_architecture(config.model_type));
    const auto ckpt = qf::st::Checkpoint::open(dir);
    std::set<std::string> required, all;
    for (const auto& t : expected) {
      all.insert(t.name);
      if (!t.optional) required.insert(t.name);
      if (ckpt.contains(t.name)) CHECK(ckpt.get(t.name).info->shape == t.shape);
    }
    const auto names = ckpt.names();
    const std::set<std::string> stored(names.begin(), names.end());
    CHECK(std::includes(stored.begin(), stored.end(), required.begin(), required.end()));
    CHECK(std::includes(all.begin(), all.end(), stored.begin(), stored.end()));
  }
}

TEST_CASE("expected shapes follow each architecture's rules", "[pipeline][checkpoint-checks]") {
  auto shape_of = [](const char* fixture, const std::string& name) {
    const auto config = qf::model::load_config(fs::path(QF_TEST_DATA_DIR) / "models" / fixture);
    for (const auto& t : qf::pipeline::expected_tensors(config, qf::model::find_architecture(config.model_type)))
      if (t.name == name) return t.shape;
    return std::vector<int64_t>{};
  };
  CHECK(shape_of("qwen2-random", "model.layers.1.self_attn.k_proj.bias") == std::vector<int64_t>{64});
  CHECK(shape_of("qwen3-random", "model.layers.0.self_attn.q_norm.weight") == std::vector<int64_t>{64});
  CHECK(shape_of("qwen3-random", "model.layers.0.self_attn.o_proj.weight") == std::vector<int64_t>{128, 256});
  CHECK(shape_of("opt-random", "model.decoder.embed_positions.weight") == std::vector<int64_t>{130, 128});
  CHECK(shape_of("opt-random", "model.decoder.layers.1.fc2.bias") == std::vector<int64_t>{128});
  CHECK(shape_of("opt-random", "model.decoder.final_layer_norm.bias") == std::vector<int64_t>{128});
  CHECK(shape_of("llama-random", "model.layers.0.self_attn.q_proj.bias").empty());  // attention_bias false
}

TEST_CASE("lm_head is required unless the embeddings are tied", "[pipeline][checkpoint-checks]") {
  const qf::test::TempDir dir_tmp("ckcheck_lm_head");
  const fs::path& dir = dir_tmp.path();
  qf::test::copy_fixture("qwen2-random", dir);  // tied, no lm_head stored
  qf::test::edit_config(dir, [](nlohmann::json& j) { j["tie_word_embeddings"] = false; });
  CHECK(check_error(dir) == (dir / "config.json").string() +
                                " describes tensor 'lm_head.weight' [512, 128] = [vocab_size (512), hidden_size "
                                "(128)], but the checkpoint has no such tensor (and tie_word_embeddings is false); "
                                "the checkpoint and its config.json do not match");

  const qf::test::TempDir tied_tmp("ckcheck_tied");
  const fs::path& tied = tied_tmp.path();
  qf::test::copy_fixture("llama-random", tied);  // untied, lm_head stored: tying keeps it valid
  qf::test::edit_config(tied, [](nlohmann::json& j) { j["tie_word_embeddings"] = true; });
  CHECK(check_error(tied).empty());
}

TEST_CASE("tensors nothing uses are named; inv_freq buffers are tolerated", "[pipeline][checkpoint-checks]") {
  const qf::test::TempDir dir_tmp("ckcheck_unused");
  const fs::path& dir = dir_tmp.path();
  qf::test::copy_fixture("llama-random", dir);
  // Checkpoints saved by older transformers carry these buffers; transformers drops them on load.
  qf::test::set_tensor(dir, "model.layers.0.self_attn.rotary_emb.inv_freq", at::ones({16}, at::kFloat));
  CHECK(check_error(dir).empty());
  // A bias the config does not give the layer (attention_bias is false) would be silently dropped.
  qf::test::set_tensor(dir, "model.layers.1.self_attn.q_proj.bias", at::zeros({128}, at::kBFloat16));
  CHECK(check_error(dir) == "1 checkpoint tensor is not part of the model " + (dir / "config.json").string() +
                                " describes, so nothing would use it: model.layers.1.self_attn.q_proj.bias; is " +
                                (dir / "config.json").string() + " the one that belongs to these weights?");
}

TEST_CASE("OPT's LayerNorm biases and learned positions are checked too", "[pipeline][checkpoint-checks]") {
  const qf::test::TempDir dir_tmp("ckcheck_opt");
  const fs::path& dir = dir_tmp.path();
  qf::test::copy_fixture("opt-random", dir);
  qf::test::set_tensor(dir, "model.decoder.layers.1.self_attn_layer_norm.bias", at::Tensor());
  CHECK(check_error(dir) == (dir / "config.json").string() +
                                " describes tensor 'model.decoder.layers.1.self_attn_layer_norm.bias' [128] = "
                                "[hidden_size (128)], but the checkpoint has no such tensor; the checkpoint and its "
                                "config.json do not match");
  qf::test::set_tensor(dir, "model.decoder.layers.1.self_attn_layer_norm.bias", at::zeros({128}, at::kHalf));
  CHECK(check_error(dir).empty());
  qf::test::edit_config(dir, [](nlohmann::json& j) { j["max_position_embeddings"] = 256; });
  CHECK(check_error(dir) == "tensor 'model.decoder.embed_positions.weight' in " + (dir / "model.safetensors").string() +
                                " has shape [130, 128], but " + (dir / "config.json").string() +
                                " needs [258, 128] = [max_position_embeddings + 2 (258), hidden_size (128)]; the "
                                "checkpoint and its config.json do not match");
}
