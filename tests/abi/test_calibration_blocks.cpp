// The host, not the method, decides the calibration block length: AWQ used to cut its module runs
// into chunks by its own max_calib_seq_len (512), so a --seqlen that did not divide its 8192-token
// chunks (384, 96, ...) failed with "tokens a multiple of the calibration blocks". Now the host
// tells the method the shape (calibration_shape) and chunks module runs itself.
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "pipeline/quantize.hpp"
#include "recipe/recipe.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

std::string awq_with_blocks(int64_t blocks, int64_t seqlen, fs::path* out_dir, const qf::test::TempDir& root) {
  const fs::path model = root / "tiny-llama";
  fs::copy(fs::path(QF_TEST_DATA_DIR) / "models" / "tiny-llama", model);
  const std::string text = "[method]\nplugin = \"awq\"\n[method.options]\nn_grid = 4\n[calibration]\ndataset = \"" +
                           std::string(QF_TEST_DATA_DIR) + "/text/heldout.txt\"\nnum_samples = " +
                           std::to_string(blocks) + "\nseqlen = " + std::to_string(seqlen) +
                           "\nseed = 0\n[[formats]]\nplugin = \"safetensors_writer\"\n[[formats]]\nplugin = "
                           "\"index_writer\"\n[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"AWQ\"\n";
  qf::pipeline::QuantizeRequest req;
  req.model_dir = model;
  req.recipe = qf::recipe::parse_recipe(text, "awq-blocks.toml");
  qf::host::PluginRegistry registry;
  registry.load_directories({QF_PLUGIN_BUILD_DIR});
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("awq-blocks", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  try {
    qf::pipeline::quantize(req, registry);
  } catch (...) {
    spdlog::set_default_logger(previous);
    throw;
  }
  spdlog::set_default_logger(previous);
  *out_dir = model / "AWQ";
  return log.str();
}

}  // namespace

TEST_CASE("AWQ calibrates on block lengths that do not divide its old 8192-token chunks", "[abi][awq]") {
  // 32 x 384 = 12288 tokens: a multiple of 512 but 8192 is not a multiple of 384.
  const qf::test::TempDir root("awq_blocks");
  fs::path out;
  const std::string log = awq_with_blocks(32, 384, &out, root);
  CHECK_THAT(log, Catch::Contains("awq: calibrating on 32 blocks of 384 tokens"));
  const auto ckpt = qf::st::Checkpoint::open(out);
  for (const char* linear : {"self_attn.q_proj", "self_attn.o_proj", "mlp.down_proj"})
    for (int layer = 0; layer < 4; ++layer) {
      const std::string prefix = "model.layers." + std::to_string(layer) + "." + linear;
      INFO(prefix);
      CHECK(ckpt.contains(prefix + ".qweight"));
      CHECK(ckpt.contains(prefix + ".scales"));
      CHECK_FALSE(ckpt.contains(prefix + ".weight"));
    }
}
