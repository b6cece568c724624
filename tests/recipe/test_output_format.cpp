// --format: the format chain and the layout each output format gets, from the bundled recipes.
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/error.hpp"
#include "recipe/recipe.hpp"

using namespace qf::recipe;

namespace {
const std::filesystem::path kRecipes = std::filesystem::path(QF_SOURCE_DIR) / "configs";

std::vector<std::string> chain(const Recipe& r) {
  std::vector<std::string> out;
  for (const auto& f : r.formats) out.push_back(f.plugin);
  return out;
}
}  // namespace

TEST_CASE("--format gguf: one gguf_writer, nothing copied beside the file", "[recipe][format]") {
  Recipe awq = load_recipe_file(kRecipes / "awq.toml");
  apply_output_format(awq, "gguf");
  CHECK(chain(awq) == std::vector<std::string>{"gguf_writer"});
  CHECK(awq.layout.policy == LayoutPolicy::InPlace);  // model-AWQ-Q4_1.gguf beside the originals
  CHECK(awq.layout.suffix == "-AWQ");
  CHECK(awq.layout.quant_config_file.empty());
  CHECK(awq.layout.single_file);  // no layout copies model files beside it, --output included
  CHECK_FALSE(awq.layout.always_write_index);
  CHECK_NOTHROW(validate(awq));

  Recipe gptq = load_recipe_file(kRecipes / "gptq.toml");
  apply_output_format(gptq, "gguf");
  CHECK(gptq.layout.policy == LayoutPolicy::Subdirectory);
  CHECK(gptq.layout.single_file);
}

TEST_CASE("--format compressed-tensors: shards, index and its own config.json, never in place", "[recipe][format]") {
  Recipe awq = load_recipe_file(kRecipes / "awq.toml");
  apply_output_format(awq, "compressed-tensors");
  CHECK(chain(awq) == std::vector<std::string>{"compressed_tensors_writer", "index_writer"});
  CHECK(awq.layout.policy == LayoutPolicy::Subdirectory);
  CHECK(awq.layout.subdirectory == "AWQ_compressed_tensors");
  CHECK(awq.layout.copy_model_files);
  CHECK(awq.formats.front().options.count("max_shard_size") == 1);  // the recipe's shard size carries over
  CHECK_NOTHROW(validate(awq));
}

TEST_CASE("--format safetensors keeps the recipe's chain; an unknown format is a clear error", "[recipe][format]") {
  Recipe gptq = load_recipe_file(kRecipes / "gptq.toml");
  const Recipe before = gptq;
  apply_output_format(gptq, "safetensors");
  CHECK(gptq == before);
  CHECK_THROWS_WITH(apply_output_format(gptq, "onnx"),
                    Catch::Contains("--format onnx is not a format quantforge writes") && Catch::Contains("gguf"));
}

TEST_CASE("convert: no method, gguf_writer with the type, in place as model-<TYPE>.gguf", "[recipe][format]") {
  const Recipe r = conversion_recipe("gguf", "bf16");
  CHECK(r.method.plugin.empty());
  REQUIRE(chain(r) == std::vector<std::string>{"gguf_writer"});
  CHECK(std::get<std::string>(r.formats[0].options.at("float_type").value) == "bf16");
  // The layout suffix names the file; the writer adds nothing of its own before the type.
  CHECK(std::get<std::string>(r.formats[0].options.at("file_suffix").value).empty());
  CHECK(r.layout.policy == LayoutPolicy::InPlace);
  CHECK(r.layout.suffix == "-BF16");
  CHECK(r.layout.single_file);
  CHECK_FALSE(r.layout.copy_model_files);
  CHECK(conversion_recipe("gguf", "q8_0").layout.suffix == "-Q8_0");
  CHECK_THROWS_WITH(conversion_recipe("safetensors", "bf16"), Catch::Contains("convert writes gguf only"));
  CHECK_THROWS_WITH(conversion_recipe("gguf", "q4_k"), Catch::Contains("--type q4_k is not a type convert writes"));
}
