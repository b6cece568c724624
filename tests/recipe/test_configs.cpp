// The shipped recipes in configs/ parse and say what docs/awq.md and docs/gptq.md say (options and defaults).
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "recipe/builtin.hpp"
#include "recipe/recipe.hpp"

using namespace qf::recipe;

namespace {
const std::filesystem::path kConfigs = std::filesystem::path(QF_SOURCE_DIR) / "configs";

template <typename T>
T opt(const PluginStep& s, const std::string& name) {
  REQUIRE(s.options.count(name) == 1);
  return std::get<T>(s.options.at(name).value);
}
}  // namespace

TEST_CASE("configs/rtn.toml parses", "[recipe][configs]") {
  const Recipe r = load_recipe_file(find_builtin_recipe("rtn", {kConfigs}));
  CHECK(r.name == "rtn");
  CHECK(r.method.plugin == "rtn");
  CHECK(opt<int64_t>(r.method, "bits") == 4);
  CHECK(opt<int64_t>(r.method, "group_size") == 128);
  CHECK(opt<bool>(r.method, "sym") == false);
  CHECK(opt<std::string>(r.method, "checkpoint_format") == "gptq");
  REQUIRE(r.formats.size() == 2);
  CHECK(r.formats[0].plugin == "safetensors_writer");
  CHECK(opt<std::string>(r.formats[0], "max_shard_size") == "5GB");
  CHECK(r.formats[1].plugin == "index_writer");
  CHECK(r.layout.policy == LayoutPolicy::Subdirectory);
  CHECK(r.layout.subdirectory == "RTN_{bits}bit_CPU");
  CHECK(expand_placeholders(r.layout.subdirectory, r) == "RTN_4bit_CPU");
  CHECK(r.layout.copy_model_files);
  CHECK(r.layout.quant_config_file == "quantize_config.json");
  CHECK(r.layout.index_file == "model.safetensors.index.json");
  CHECK_FALSE(r.calibration.has_value());
  CHECK(r.compute_dtype == "auto");
  // Origins point into the file.
  CHECK(r.method.options.at("bits").origin.find("configs/rtn.toml:") != std::string::npos);
}

TEST_CASE("configs/awq.toml parses", "[recipe][configs]") {
  const Recipe r = load_recipe_file(kConfigs / "awq.toml");
  CHECK(r.method.plugin == "awq");
  CHECK(opt<int64_t>(r.method, "w_bit") == 4);
  CHECK(opt<int64_t>(r.method, "q_group_size") == 128);
  CHECK(opt<bool>(r.method, "zero_point") == true);
  CHECK(opt<std::string>(r.method, "version") == "gemm");
  CHECK(opt<bool>(r.method, "duo_scaling") == true);
  CHECK(opt<int64_t>(r.method, "n_grid") == 20);
  CHECK(opt<bool>(r.method, "apply_clip") == true);
  CHECK(opt<int64_t>(r.method, "max_calib_samples") == 128);
  CHECK(opt<int64_t>(r.method, "max_calib_seq_len") == 512);
  REQUIRE(r.calibration.has_value());
  CHECK(r.calibration->dataset == "pileval");
  CHECK(r.calibration->num_samples == 128);
  CHECK(r.calibration->seqlen == 512);
  CHECK(r.layout.policy == LayoutPolicy::InPlace);
  CHECK(r.layout.suffix == "-AWQ");
  CHECK(r.layout.quant_config_file == "quant_config-AWQ.json");
  CHECK(r.layout.index_file == "model-AWQ.safetensors.index.json");
  CHECK(r.layout.always_write_index);
  CHECK_FALSE(r.layout.copy_model_files);
  REQUIRE(r.formats.size() == 2);
}

TEST_CASE("configs/gptq.toml parses", "[recipe][configs]") {
  const Recipe r = load_recipe_file(kConfigs / "gptq.toml");
  CHECK(r.method.plugin == "gptq");
  CHECK(opt<int64_t>(r.method, "bits") == 8);
  CHECK(opt<int64_t>(r.method, "group_size") == 128);
  CHECK(opt<bool>(r.method, "sym") == true);
  CHECK(opt<bool>(r.method, "desc_act") == false);
  CHECK(opt<double>(r.method, "damp_percent") == 0.1);
  CHECK(opt<bool>(r.method, "static_groups") == false);
  CHECK(opt<bool>(r.method, "true_sequential") == true);
  REQUIRE(r.calibration.has_value());
  CHECK(*r.calibration == Calibration{"wikitext2", 128, 2048, 0, "", "wikitext2-valid"});
  CHECK(r.layout.policy == LayoutPolicy::Subdirectory);
  CHECK(expand_placeholders(r.layout.subdirectory, r) == "GPTQ_8bit_CPU");
  CHECK(r.layout.copy_model_files);
  CHECK(r.layout.quant_config_file == "quantize_config.json");
}

TEST_CASE("find_builtin_recipe looks in order and lists the places looked", "[recipe][builtin]") {
  const std::filesystem::path missing = std::filesystem::path(QF_SOURCE_DIR) / "no-such-dir";
  CHECK(find_builtin_recipe("gptq", {missing, kConfigs}) == kConfigs / "gptq.toml");
  try {
    find_builtin_recipe("nope", {missing, kConfigs});
    FAIL("expected an error");
  } catch (const qf::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'nope' not found") != std::string::npos);
    CHECK(msg.find((missing / "nope.toml").generic_string()) != std::string::npos);
    CHECK(msg.find((kConfigs / "nope.toml").generic_string()) != std::string::npos);
  }
  CHECK_THROWS_WITH(find_builtin_recipe("awq", {}), Catch::Contains("no recipe directories"));
  CHECK_THROWS_WITH(find_builtin_recipe("../awq", {kConfigs}), Catch::Contains("invalid built-in recipe name"));
}
