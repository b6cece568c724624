// Config parsing: both transformers spellings, defaults, and clear errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/architecture.hpp"
#include "model/config.hpp"

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
