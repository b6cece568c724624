// Config parsing: both transformers spellings, defaults, and clear errors.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"
#include "support/temp_dir.hpp"

using namespace qf::model;
using nlohmann::json;

namespace {

json llama_base() {
  return json{{"model_type", "llama"}, {"hidden_size", 64}, {"intermediate_size", 128},
              {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"vocab_size", 100},
              {"max_position_embeddings", 2048}, {"rms_norm_eps", 1e-5}};
}

}  // namespace

TEST_CASE("transformers-4 and -5 spellings parse to the same values", "[config]") {
  json v4 = llama_base();
  v4["rope_theta"] = 500000.0;
  v4["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                        {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  v4["torch_dtype"] = "bfloat16";
  json v5 = llama_base();
  v5["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0},
                           {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                           {"original_max_position_embeddings", 8192}};
  v5["dtype"] = "bfloat16";
  for (const auto& c : {parse_config(v4, "v4"), parse_config(v5, "v5")}) {
    CHECK(c.rope.type == RopeType::Llama3);
    CHECK(c.rope.theta == 500000.0);
    CHECK(c.rope.factor == 8.0);
    CHECK(c.rope.high_freq_factor == 4.0);
    CHECK(c.rope.original_max_position_embeddings == 8192);
    CHECK(c.dtype == "bfloat16");
    CHECK(c.head_dim == 16);
    CHECK(c.num_kv_heads == 4);
    CHECK(c.norm_eps == 1e-5);
    CHECK_FALSE(c.tie_word_embeddings);
  }
  json legacy = llama_base();  // old "type" key
  legacy["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  CHECK(parse_config(legacy, "x").rope.type == RopeType::Linear);
}

TEST_CASE("explicit head_dim, kv heads, partial rotary and qwen3 defaults", "[config]") {
  json j = llama_base();
  j["model_type"] = "qwen3";
  j["num_key_value_heads"] = 2;
  j["partial_rotary_factor"] = 0.5;
  auto c = parse_config(j, "x");
  CHECK(c.head_dim == 128);  // Qwen3Config default
  CHECK(c.num_kv_heads == 2);
  CHECK(c.rotary_dim() == 64);
  j["head_dim"] = 32;
  CHECK(parse_config(j, "x").head_dim == 32);
}

TEST_CASE("OPT config", "[config]") {
  json j{{"model_type", "opt"}, {"hidden_size", 64}, {"ffn_dim", 256}, {"num_hidden_layers", 2},
         {"num_attention_heads", 4}, {"vocab_size", 100}, {"word_embed_proj_dim", 64},
         {"do_layer_norm_before", true}, {"activation_function", "relu"}};
  auto c = parse_config(j, "x");
  CHECK(c.intermediate_size == 256);
  CHECK(c.tie_word_embeddings);
  CHECK(c.attention_bias);
  CHECK(c.norm_eps == 1e-5);
  CHECK(c.rope.type == RopeType::None);
  j["enable_bias"] = false;
  CHECK_FALSE(parse_config(j, "x").mlp_bias);
  j["word_embed_proj_dim"] = 32;
  CHECK_THROWS_WITH(parse_config(j, "cfg.json"), Catch::Contains("word_embed_proj_dim") && Catch::Contains("not supported"));
}

TEST_CASE("unknown model_type lists the supported ones", "[config]") {
  json j = llama_base();
  j["model_type"] = "gpt2";
  CHECK_THROWS_AS(parse_config(j, "m/config.json"), qf::Error);
  CHECK_THROWS_WITH(parse_config(j, "m/config.json"),
                    Catch::Contains("m/config.json") && Catch::Contains("'gpt2'") && Catch::Contains("llama") &&
                        Catch::Contains("mistral") && Catch::Contains("qwen2") && Catch::Contains("qwen3") &&
                        Catch::Contains("opt"));
}

TEST_CASE("missing keys and unsupported rope types are named", "[config]") {
  json j = llama_base();
  j.erase("hidden_size");
  CHECK_THROWS_WITH(parse_config(j, "x"), Catch::Contains("hidden_size"));
  j = llama_base();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  CHECK_THROWS_WITH(parse_config(j, "x"), Catch::Contains("yarn") && Catch::Contains("llama3"));
  j = llama_base();
  j["num_key_value_heads"] = 3;
  CHECK_THROWS_WITH(parse_config(j, "x"), Catch::Contains("num_key_value_heads"));
}

TEST_CASE("architecture table: AWQ and GPTQ groups", "[arch]") {
  json j = llama_base();
  auto mha = parse_config(j, "x");
  const auto& a = find_architecture("llama");
  CHECK(awq_groups(a, mha).size() == 4);  // v->o present without GQA
  j["num_key_value_heads"] = 2;
  auto gqa = parse_config(j, "x");
  auto g = awq_groups(a, gqa);
  REQUIRE(g.size() == 3);
  CHECK(g[1].prev_op == "post_attention_layernorm");
  CHECK(g[1].inspect == "mlp");
  CHECK(a.gptq_groups.size() == 4);
  CHECK(a.gptq_groups[2] == std::vector<std::string>{"mlp.gate_proj", "mlp.up_proj"});
  const auto& opt = find_architecture("opt");
  CHECK(opt.gptq_groups[1] == std::vector<std::string>{"self_attn.out_proj"});
  CHECK(opt.awq_groups[3].prev_op == "fc1");
  CHECK(supported_model_types().size() == 5);
}

namespace {

// A copy of a fixture's config.json with one key replaced (or removed when `value` is null), in a
// folder of its own; returns the error load_config gives for it ("" when it loads).
std::string load_error_with(const std::string& fixture, const std::string& key, const json& value,
                            const std::string& nested = "") {
  namespace fs = std::filesystem;
  const qf::test::TempDir tmp("config_" + fixture + "_" + key);
  const fs::path& dir = tmp.path();
  json j;
  std::ifstream(std::string(QF_TEST_DATA_DIR) + "/models/" + fixture + "/config.json") >> j;
  json& target = nested.empty() ? j : j.at(nested);
  if (value.is_null()) target.erase(key);
  else target[key] = value;
  std::ofstream(dir / "config.json") << j.dump(2);
  std::string error;
  try {
    load_config(dir);
  } catch (const qf::Error& e) {
    error = e.what();
  }
  return error;
}

}  // namespace

TEST_CASE("every size in config.json is validated before it is used", "[config][errors]") {
  // num_attention_heads 0 used to divide by zero (SIGFPE) while deriving head_dim.
  for (const char* fixture : {"tiny-llama", "opt-random", "qwen2-random"}) {
    const std::string e = load_error_with(fixture, "num_attention_heads", 0);
    CHECK_THAT(e, Catch::Contains("config.json: key 'num_attention_heads' must be a positive integer, got 0"));
  }
  for (const char* key : {"hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads",
                          "head_dim", "num_hidden_layers", "vocab_size", "max_position_embeddings"}) {
    for (int bad : {0, -4}) {
      CAPTURE(key, bad);
      CHECK_THAT(load_error_with("tiny-llama", key, bad),
                 Catch::Contains("tiny-llama_" + std::string(key)) &&
                     Catch::Contains("config.json: key '" + std::string(key) + "' must be a positive integer, got " +
                                     std::to_string(bad)));
    }
  }
  CHECK_THAT(load_error_with("opt-random", "ffn_dim", 0),
             Catch::Contains("key 'ffn_dim' must be a positive integer, got 0"));
  CHECK_THAT(load_error_with("mistral-random", "sliding_window", 0),
             Catch::Contains("key 'sliding_window' must be a positive integer, got 0"));
  CHECK_THAT(load_error_with("tiny-llama", "hidden_size", "256"), Catch::Contains("key 'hidden_size' must be an integer"));
}

TEST_CASE("head counts must divide, and hidden_size must split over the heads without head_dim", "[config][errors]") {
  CHECK_THAT(load_error_with("tiny-llama", "num_key_value_heads", 3),
             Catch::Contains("config.json: key 'num_key_value_heads' (3) must divide num_attention_heads (4)"));
  CHECK_THAT(load_error_with("mistral-random", "head_dim", nullptr),  // mistral: 128 / 4 divides
             Catch::Equals(""));
  json three_heads = 3;
  CHECK_THAT(load_error_with("opt-random", "num_attention_heads", three_heads),
             Catch::Contains("config.json: key 'hidden_size' (128) must be divisible by num_attention_heads (3) "
                             "when head_dim is not given"));
  // With an explicit head_dim the product need not equal hidden_size (Qwen3 has 4 x 64 != 128).
  CHECK(load_error_with("qwen3-random", "num_key_value_heads", 4) == "");
}

TEST_CASE("rope and norm parameters must be positive", "[config][errors]") {
  CHECK_THAT(load_error_with("llama-random", "rope_theta", 0.0),
             Catch::Contains("config.json: key 'rope_theta' must be a positive number, got 0.0"));
  CHECK_THAT(load_error_with("qwen3-random", "rope_theta", -1.0, "rope_parameters"),
             Catch::Contains("config.json: key 'rope_theta' must be a positive number, got -1.0"));
  CHECK_THAT(load_error_with("tiny-llama", "rms_norm_eps", 0.0),
             Catch::Contains("config.json: key 'rms_norm_eps' must be a positive number, got 0.0"));
  CHECK_THAT(load_error_with("llama-random", "factor", 0.0, "rope_scaling"),
             Catch::Contains("key 'factor' must be a positive number, got 0.0"));
  CHECK_THAT(load_error_with("llama-random", "low_freq_factor", -1.0, "rope_scaling"),
             Catch::Contains("key 'low_freq_factor' must be a positive number"));
  CHECK_THAT(load_error_with("llama-random", "original_max_position_embeddings", 0, "rope_scaling"),
             Catch::Contains("key 'original_max_position_embeddings' must be a positive number"));
  CHECK_THAT(load_error_with("llama-random", "rope_type", 3, "rope_scaling"),
             Catch::Contains("key 'rope_type' must be a string"));
  // The fixtures themselves load.
  for (const char* f : {"tiny-llama", "llama-random", "mistral-random", "opt-random", "qwen2-random", "qwen3-random"})
    CHECK(load_error_with(f, "unrelated_key", 1) == "");
}
