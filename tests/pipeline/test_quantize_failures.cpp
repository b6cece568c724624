// Failures: a method failing or throwing mid-run, a cancel, a missing plugin, an already-quantized
// model. Each is one clear error and leaves no output and the originals untouched.
#include <catch2/catch.hpp>
#include <fstream>

#include "common/error.hpp"
#include "pipeline/quantize.hpp"
#include "recipe/recipe.hpp"
#include "support/temp_dir.hpp"
#include "synthetic_model.hpp"

namespace fs = std::filesystem;

namespace {

qf::recipe::Recipe recipe_for(const std::string& method) {
  return qf::recipe::parse_recipe("[method]\nplugin = \"" + method +
                                      "\"\n[[formats]]\nplugin = \"safetensors_writer\"\n[[formats]]\nplugin = "
                                      "\"index_writer\"\n[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"OUT\"\n",
                                  "failure-test.toml");
}

std::string run_error(const fs::path& dir, const std::string& method, const std::string& plugin_dir,
                      const std::atomic<bool>* cancel = nullptr) {
  qf::host::PluginRegistry registry;
  registry.load_directories({QF_PLUGIN_BUILD_DIR, plugin_dir});
  qf::pipeline::QuantizeRequest req;
  req.model_dir = dir;
  req.recipe = recipe_for(method);
  req.cancel = cancel;
  try {
    qf::pipeline::quantize(req, registry);
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "";
}

size_t entry_count(const fs::path& d) {
  size_t n = 0;
  for (auto it = fs::directory_iterator(d); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

}  // namespace

TEST_CASE("a method that fails mid-run leaves nothing behind", "[pipeline][failure]") {
  const qf::test::TempDir tmp("fail_model");
  const fs::path dir = tmp / "model";
  qf::test::make_synthetic_llama(dir, 4);
  const auto before = qf::test::snapshot(dir);
  const size_t entries = entry_count(dir);
  const std::string broken = QF_BROKEN_PLUGIN_DIR;

  CHECK_THAT(run_error(dir, "layerfail", broken + "/layer_fails"),
             Catch::Contains("plugin 'layerfail' failed during quantize_layer 1: layer 1 cannot be quantized"));
  CHECK_FALSE(fs::exists(dir / "OUT"));
  CHECK(entry_count(dir) == entries);  // no staging folder left either

  CHECK_THAT(run_error(dir, "layerthrow", broken + "/layer_throws"),
             Catch::Contains("threw an exception across the C ABI") && Catch::Contains("escaped exception"));
  CHECK_FALSE(fs::exists(dir / "OUT"));

  std::atomic<bool> cancel{true};
  CHECK_THAT(run_error(dir, "rtn", broken + "/layer_fails", &cancel), Catch::Contains("cancelled"));
  CHECK_FALSE(fs::exists(dir / "OUT"));
  CHECK(entry_count(dir) == entries);
  CHECK(qf::test::snapshot(dir) == before);
}

TEST_CASE("missing plugins, missing models and quantized inputs are clear errors", "[pipeline][failure]") {
  const qf::test::TempDir tmp("fail_inputs");
  const fs::path dir = tmp / "model";
  qf::test::make_synthetic_llama(dir, 5);
  CHECK_THAT(run_error(dir, "awq_nope", "/nonexistent"),
             Catch::Contains("method plugin 'awq_nope' is not installed") && Catch::Contains("rtn"));
  CHECK_THAT(run_error(dir, "safetensors_writer", "/nonexistent"),
             Catch::Contains("is a format plugin, not a method plugin"));
  CHECK_THAT(run_error(dir / "missing", "rtn", "/nonexistent"), Catch::Contains("model folder not found"));
  std::ofstream(dir / "config.json") << R"({"model_type": "llama", "quantization_config": {"bits": 4}})";
  CHECK_THAT(run_error(dir, "rtn", "/nonexistent"), Catch::Contains("already has a quantization_config"));
  std::ofstream(dir / "config.json") << R"({"model_type": "gpt_neox_unknown", "hidden_size": 8})";
  CHECK_THAT(run_error(dir, "rtn", "/nonexistent"), Catch::Contains("gpt_neox_unknown") && Catch::Contains("llama"));
}
