// ABI growth, both ways, on real plugin binaries: a method plugin built against ABI 1.0 (C, its own
// copies of the 1.0 structs, smaller out-structs) and one built against a newer minor version
// (larger descriptor, option structs, vtable, out-structs) load and run end to end on this host.
// Each plugin checks the host's side of the contract itself (canaries, untouched newer fields) and
// fails the run if it is broken; here we check what the host made of them, against weights rounded
// independently with ATen.
#include <ATen/ATen.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/quantize.hpp"
#include "recipe/recipe.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

// A copy of the bundled model (top-level files) in a folder of its own.
struct TempModel {
  qf::test::TempDir root{"abi"};
  fs::path dir = root / "tiny-llama";
  TempModel() { fs::copy(fs::path(QF_TEST_DATA_DIR) / "models" / "tiny-llama", dir); }
};

qf::host::PluginRegistry registry_with_fixtures() {
  qf::host::PluginRegistry r;
  r.load_directories({QF_PLUGIN_BUILD_DIR, QF_ABI_FIXTURE_DIR});
  return r;
}

qf::recipe::Recipe recipe_for(const std::string& method, int step) {
  const std::string text = "[method]\nplugin = \"" + method + "\"\n[method.options]\nstep = " + std::to_string(step) +
                           "\n[calibration]\ndataset = \"" + QF_TEST_DATA_DIR + "/text/heldout.txt\"\n" +
                           "num_samples = 4\nseqlen = 24\nseed = 0\n" +
                           "[[formats]]\nplugin = \"safetensors_writer\"\n[[formats]]\nplugin = \"index_writer\"\n" +
                           "[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"OUT\"\n";
  return qf::recipe::parse_recipe(text, "abi-test.toml");
}

at::Tensor as_float(const qf::st::TensorView& v) {
  at::ScalarType t = at::kFloat;
  if (v.info->dtype == qf::st::DType::BF16) t = at::kBFloat16;
  if (v.info->dtype == qf::st::DType::F16) t = at::kHalf;
  return at::from_blob(const_cast<std::byte*>(v.data), v.info->shape, at::TensorOptions().dtype(t)).to(at::kFloat);
}

// Runs `method` with step 8 and returns the log; checks every weight against an ATen rounding.
std::string run_and_check(const std::string& method) {
  TempModel model;
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("abi-test", sink));
  qf::pipeline::QuantizeRequest req;
  req.model_dir = model.dir;
  req.recipe = recipe_for(method, 8);
  const auto registry = registry_with_fixtures();
  try {
    qf::pipeline::quantize(req, registry);
  } catch (...) {
    spdlog::set_default_logger(previous);
    throw;
  }
  spdlog::set_default_logger(previous);

  const auto original = qf::st::Checkpoint::open(model.dir);
  const auto out = qf::st::Checkpoint::open(model.dir / "OUT");
  int linears = 0;
  for (const auto& name : original.names()) {
    INFO(name);
    REQUIRE(out.contains(name));
    const bool is_linear = name.find("_proj.weight") != std::string::npos;
    const at::Tensor before = as_float(original.get(name));
    const at::Tensor after = as_float(out.get(name));
    if (is_linear) {
      ++linears;
      CHECK(at::equal(after, at::round(before * 8) / 8));
      CHECK_FALSE(at::equal(after, before));  // the grid moved them
    } else {
      CHECK(at::equal(after, before));
    }
  }
  CHECK(linears == 4 * 7);  // tiny-llama: 4 layers of q, k, v, o, gate, up, down
  for (const auto& entry : fs::recursive_directory_iterator(model.dir / "OUT"))
    CHECK(entry.path().filename().string().find("notes") == std::string::npos);  // scratch never committed
  std::ifstream config(model.dir / "OUT" / "config.json");
  CHECK(nlohmann::json::parse(config)["quantization_config"]["quant_method"] == method);
  return log.str();
}

}  // namespace

TEST_CASE("an ABI 1.0 plugin and a newer-minor plugin both load, with their options", "[abi]") {
  const auto registry = registry_with_fixtures();
  CHECK(registry.failures().empty());
  for (const char* name : {"old_abi", "new_abi"}) {
    INFO(name);
    const auto plugin = registry.find(name);
    REQUIRE(plugin);
    REQUIRE(plugin->options().size() == 2);
    CHECK(plugin->options()[0].name == "step");
    CHECK(plugin->options()[0].type == QF_OPTION_INT);
    CHECK(plugin->options()[0].default_text == "16");
    CHECK(plugin->options()[0].help == "grid points per unit");
    CHECK(plugin->options()[1].name == "note");
    CHECK(plugin->options()[1].type == QF_OPTION_STRING);
  }
  CHECK(registry.find("old_abi")->abi_minor() == 0);
  CHECK(registry.find("new_abi")->abi_minor() == QF_ABI_VERSION_MINOR + 1);
}

TEST_CASE("an ABI 1.0 plugin runs end to end: smaller out-structs, context-free log, .scratch/ files", "[abi]") {
  const std::string log = run_and_check("old_abi");
  // Context-free logging from inside a host call is still attributed to the plugin.
  CHECK_THAT(log, Catch::Contains("old_abi: old-style log line from layer 0 of 4"));
}

TEST_CASE("a newer-minor plugin runs end to end: larger structs, context log, scratch, calibration shape", "[abi]") {
  const std::string log = run_and_check("new_abi");
  CHECK_THAT(log, Catch::Contains("new_abi: context log line from layer 3 of 4"));
  CHECK_THAT(log, Catch::Contains("new_abi: log line from a plugin thread, layer 3"));
}
