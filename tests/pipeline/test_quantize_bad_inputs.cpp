// Bad models through the whole RTN pipeline: a tensor of the wrong shape, a config that does not
// match the weights, NaN/Inf weights, weights too large for fp16 scales, a zero head count, and a
// config with fewer layers than the checkpoint. Each is one clear error, no output is written, and
// the model folder is byte-identical afterwards. Every fixture still quantizes.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <limits>

#include "broken_model.hpp"
#include "support/temp_dir.hpp"
#include "common/error.hpp"
#include "pipeline/quantize.hpp"
#include "recipe/recipe.hpp"
#include "synthetic_model.hpp"

namespace fs = std::filesystem;

namespace {

struct Outcome {
  std::string error;         // "" when the run succeeded
  bool wrote_output = true;  // OUT/ or any other new entry in the model folder
  bool model_unchanged = false;
};

size_t entry_count(const fs::path& d) {
  size_t n = 0;
  for (auto it = fs::directory_iterator(d); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

// `extra`: more recipe tables (e.g. [calibration] for a calibrated method).
Outcome quantize_method(const fs::path& dir, const std::string& method, const std::string& extra = "") {
  const auto before = qf::test::snapshot(dir);
  const size_t entries = entry_count(dir);
  qf::host::PluginRegistry registry;
  registry.load_directories({QF_PLUGIN_BUILD_DIR});
  qf::pipeline::QuantizeRequest req;
  req.model_dir = dir;
  req.recipe = qf::recipe::parse_recipe(
      "[method]\nplugin = \"" + method + "\"\n[[formats]]\nplugin = \"safetensors_writer\"\n[[formats]]\nplugin = "
      "\"index_writer\"\n[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"OUT\"\n" + extra,
      "bad-input-test.toml");
  Outcome o;
  try {
    qf::pipeline::quantize(req, registry);
  } catch (const qf::Error& e) {
    o.error = e.what();
  }
  o.wrote_output = fs::exists(dir / "OUT") || entry_count(dir) != entries;
  o.model_unchanged = qf::test::snapshot(dir) == before;
  return o;
}

Outcome quantize_rtn(const fs::path& dir) { return quantize_method(dir, "rtn"); }

// A fresh copy of tiny-llama (4 layers, hidden 256, 4 heads x 64, 2 KV heads, 2 shards + index).
qf::test::TempDir tiny_llama_copy(const std::string& tag) {
  qf::test::TempDir dir(tag);
  qf::test::copy_fixture("tiny-llama", dir.path());
  return dir;
}

std::string config_of(const fs::path& dir) { return (dir / "config.json").string(); }

}  // namespace

TEST_CASE("rtn: a tensor whose shape does not match config.json is rejected up front", "[pipeline][bad-input]") {
  const qf::test::TempDir dir_tmp = tiny_llama_copy("bad_shape");
  const fs::path& dir = dir_tmp.path();
  qf::test::set_tensor(dir, "model.layers.0.self_attn.q_proj.weight", at::randn({512, 128}).to(at::kBFloat16));
  const Outcome o = quantize_rtn(dir);
  CHECK(o.error == "tensor 'model.layers.0.self_attn.q_proj.weight' in " +
                       (dir / "model-00001-of-00002.safetensors").string() + " has shape [512, 128], but " +
                       config_of(dir) +
                       " needs [256, 256] = [num_attention_heads x head_dim (4 x 64), hidden_size (256)]; the "
                       "checkpoint and its config.json do not match");
  CHECK_FALSE(o.wrote_output);
  CHECK(o.model_unchanged);
}

TEST_CASE("rtn: a wrong hidden_size in config.json is rejected up front", "[pipeline][bad-input]") {
  const qf::test::TempDir dir_tmp = tiny_llama_copy("bad_hidden");
  const fs::path& dir = dir_tmp.path();
  qf::test::edit_config(dir, [](nlohmann::json& j) { j["hidden_size"] = 512; });
  const Outcome o = quantize_rtn(dir);
  CHECK(o.error == "tensor 'model.embed_tokens.weight' in " + (dir / "model-00001-of-00002.safetensors").string() +
                       " has shape [4096, 256], but " + config_of(dir) +
                       " needs [4096, 512] = [vocab_size (4096), hidden_size (512)] (and 38 more tensors differ); "
                       "the checkpoint and its config.json do not match");
  CHECK_FALSE(o.wrote_output);
  CHECK(o.model_unchanged);
}

TEST_CASE("rtn: NaN and Inf weights are errors naming the tensor", "[pipeline][bad-input]") {
  SECTION("scattered NaN/Inf values") {
    const qf::test::TempDir dir_tmp = tiny_llama_copy("nan_values");
    const fs::path& dir = dir_tmp.path();
    at::Tensor w = qf::test::read_tensor(dir, "model.layers.0.self_attn.q_proj.weight");
    w[5][17] = std::numeric_limits<float>::quiet_NaN();
    w[5][40] = std::numeric_limits<float>::infinity();
    w[200][3] = -std::numeric_limits<float>::infinity();
    qf::test::set_tensor(dir, "model.layers.0.self_attn.q_proj.weight", w);
    const Outcome o = quantize_rtn(dir);
    CHECK(o.error == "plugin 'rtn' failed during quantize_layer 0: model.layers.0.self_attn.q_proj.weight: the "
                     "weight has 3 NaN or Inf values (first at row 5, column 17); the checkpoint is damaged: "
                     "re-export it from a healthy copy");
    CHECK_FALSE(o.wrote_output);
    CHECK(o.model_unchanged);
  }
  SECTION("a NaN row in a later layer (it used to become finite codes)") {
    const qf::test::TempDir dir_tmp = tiny_llama_copy("nan_row");
    const fs::path& dir = dir_tmp.path();
    at::Tensor w = qf::test::read_tensor(dir, "model.layers.2.mlp.down_proj.weight");  // [256, 768]
    w[7].fill_(std::numeric_limits<float>::quiet_NaN());
    qf::test::set_tensor(dir, "model.layers.2.mlp.down_proj.weight", w);
    const Outcome o = quantize_rtn(dir);
    CHECK_THAT(o.error, Catch::StartsWith("plugin 'rtn' failed during quantize_layer 2: "
                                          "model.layers.2.mlp.down_proj.weight: the weight has 768 NaN or Inf "
                                          "values (first at row 7, column 0)"));
    CHECK_FALSE(o.wrote_output);
    CHECK(o.model_unchanged);
  }
}

TEST_CASE("awq: an Inf weight is an error naming the tensor, before any search", "[pipeline][bad-input]") {
  const qf::test::TempDir dir_tmp = tiny_llama_copy("awq_inf");
  const fs::path& dir = dir_tmp.path();
  at::Tensor w = qf::test::read_tensor(dir, "model.layers.1.mlp.up_proj.weight");
  w[3][9] = std::numeric_limits<float>::infinity();
  qf::test::set_tensor(dir, "model.layers.1.mlp.up_proj.weight", w);
  const std::string text = std::string(QF_SOURCE_DIR) + "/tests/data/text/heldout.txt";
  const Outcome o =
      quantize_method(dir, "awq", "[calibration]\ndataset = \"" + text + "\"\nnum_samples = 2\nseqlen = 64\n");
  CHECK(o.error == "plugin 'awq' failed during quantize_layer 1: model.layers.1.mlp.up_proj.weight: the weight has "
                   "1 NaN or Inf value (first at row 3, column 9); the checkpoint is damaged: re-export it from a "
                   "healthy copy");
  CHECK_FALSE(o.wrote_output);
  CHECK(o.model_unchanged);
}

TEST_CASE("rtn: finite weights whose group scale overflows fp16 are an error", "[pipeline][bad-input]") {
  const qf::test::TempDir dir_tmp = tiny_llama_copy("scale_overflow");
  const fs::path& dir = dir_tmp.path();
  at::Tensor w = qf::test::read_tensor(dir, "model.layers.1.mlp.up_proj.weight");  // [768, 256]
  w[3][100] = 1.0e6;  // bf16 keeps 999424; a 4-bit group scale of ~66600 is past fp16's 65504
  qf::test::set_tensor(dir, "model.layers.1.mlp.up_proj.weight", w);
  const Outcome o = quantize_rtn(dir);
  CHECK(o.error == "plugin 'rtn' failed during quantize_layer 1: model.layers.1.mlp.up_proj.weight: max |w| is "
                   "999424 (row 3, column 100), so a group scale exceeds 65504, the largest fp16 value: fp16 "
                   "scales cannot hold it; the checkpoint is damaged or not meant for this format");
  CHECK_FALSE(o.wrote_output);
  CHECK(o.model_unchanged);
}

TEST_CASE("rtn: num_attention_heads 0 is a config error, not a crash", "[pipeline][bad-input]") {
  const qf::test::TempDir dir_tmp = tiny_llama_copy("zero_heads");
  const fs::path& dir = dir_tmp.path();
  qf::test::edit_config(dir, [](nlohmann::json& j) { j["num_attention_heads"] = 0; });
  const Outcome o = quantize_rtn(dir);
  CHECK(o.error == config_of(dir) + ": key 'num_attention_heads' must be a positive integer, got 0");
  CHECK_FALSE(o.wrote_output);
  CHECK(o.model_unchanged);
}

TEST_CASE("rtn: layers the config does not describe are not dropped silently", "[pipeline][bad-input]") {
  SECTION("fewer layers in config.json than in the checkpoint") {
    const qf::test::TempDir dir_tmp = tiny_llama_copy("fewer_layers");
    const fs::path& dir = dir_tmp.path();
    qf::test::edit_config(dir, [](nlohmann::json& j) { j["num_hidden_layers"] = 2; });
    const Outcome o = quantize_rtn(dir);
    CHECK(o.error == "18 checkpoint tensors are not part of the model " + config_of(dir) +
                         " describes, so nothing would use them: model.layers.2.input_layernorm.weight, "
                         "model.layers.2.mlp.down_proj.weight, model.layers.2.mlp.gate_proj.weight, "
                         "model.layers.2.mlp.up_proj.weight, model.layers.2.post_attention_layernorm.weight, ... "
                         "(13 more); the checkpoint has decoder layers up to index 3 but " +
                         config_of(dir) + " says num_hidden_layers 2: fix num_hidden_layers");
    CHECK_FALSE(o.wrote_output);
    CHECK(o.model_unchanged);
  }
  SECTION("more layers in config.json than in the checkpoint") {
    const qf::test::TempDir dir_tmp = tiny_llama_copy("more_layers");
    const fs::path& dir = dir_tmp.path();
    qf::test::edit_config(dir, [](nlohmann::json& j) { j["num_hidden_layers"] = 5; });
    const Outcome o = quantize_rtn(dir);
    CHECK(o.error == config_of(dir) +
                         " describes tensor 'model.layers.4.input_layernorm.weight' [256] = [hidden_size (256)], but "
                         "the checkpoint has no such tensor (and 8 more tensors differ); the checkpoint and its "
                         "config.json do not match");
    CHECK_FALSE(o.wrote_output);
    CHECK(o.model_unchanged);
  }
}

TEST_CASE("rtn: every fixture still quantizes with the checks in place", "[pipeline][bad-input]") {
  for (const char* fixture : {"tiny-llama", "llama-random", "mistral-random", "opt-random", "qwen2-random",
                              "qwen3-random"}) {
    CAPTURE(fixture);
    const qf::test::TempDir dir_tmp(std::string("rtn_ok_") + fixture);
    const fs::path& dir = dir_tmp.path();
    qf::test::copy_fixture(fixture, dir);
    const Outcome o = quantize_rtn(dir);
    CHECK(o.error.empty());
    CHECK(fs::exists(dir / "OUT" / "config.json"));
  }
}
