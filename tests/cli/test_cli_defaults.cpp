// The defaults work offline: `quantize MODEL --gptq` with no other flag calibrates on the bundled
// WikiText-2 validation split when the train split is absent, and on the train split when present.
#include <catch2/catch.hpp>

#include "shell_run.hpp"
#include "support/temp_dir.hpp"
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

using qf::test::Result;

Result run(const std::string& args) {
  return qf::test::run_shell(std::string(QF_BINARY_DIR) + "/bin/quantforge " + args);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + part.size())) ++n;
  return n;
}

using qf::test::TempDir;

using qf::test::ScopedEnv;

fs::path copy_tiny_llama(const fs::path& parent) {
  const fs::path dir = parent / "tiny-llama";
  fs::copy(std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama", dir, fs::copy_options::recursive);
  return dir;
}

}  // namespace

TEST_CASE("quantize MODEL --gptq with no other flag runs offline on the bundled WikiText-2 validation split",
          "[cli][gptq][calibration]") {
  TempDir work("gptq_default");
  // An empty data folder first in the search: no wiki.train.raw may be found by accident.
  const fs::path data = work.path() / "data";
  fs::create_directories(data);
  const ScopedEnv env("QUANTFORGE_DATA_DIR", data.string());
  const fs::path model = copy_tiny_llama(work.path());
  // Found relative to the executable: the build tree mirrors <prefix>/share/quantforge/data.
  const fs::path bundled = fs::path(QF_BINARY_DIR) / "share" / "quantforge" / "data" / "wikitext-2-raw" / "wiki.valid.raw";

  // The README's command; --threads changes nothing checked here, and one thread stays fast when ctest runs
  // tests side by side (the default calibration is ~8 TFLOP even on this model: about 90 s of one core).
  const auto r = run("quantize " + model.string() + " --gptq --threads 1");
  INFO(r.output);
  REQUIRE(r.code == 0);
  // Warned once: what was missing and where we looked, what was used, and how to supply the train split.
  CHECK(count_of(r.output, "not found") == 1);
  CHECK(count_of(r.output, "fallback_dataset") == 1);
  CHECK_THAT(r.output, Catch::Contains("[warning] calibration dataset \"wikitext2\" not found (looked for "
                                       "wiki.train.raw, wikitext-2-raw/wiki.train.raw in " + data.string() + ", "));
  CHECK_THAT(r.output, Catch::Contains("calibrating on the recipe's fallback_dataset \"wikitext2-valid\" instead: " +
                                       bundled.string()));
  CHECK_THAT(r.output, Catch::Contains("To calibrate on \"wikitext2\", put wiki.train.raw in one of those folders, "
                                       "point QUANTFORGE_DATA_DIR or --dataset-path at the folder that holds it, or "
                                       "pass --dataset /path/to/wiki.train.raw."));
  // The reference's protocol and sizes on that text: 128 random 2048-token windows, seed 0.
  CHECK_THAT(r.output, Catch::Contains("calibration data: wikitext2 (GPTQ paper protocol) from " + bundled.string() +
                                       " (validation split;") &&
                           Catch::Contains("): 128 x 2048 tokens, seed 0"));

  const fs::path out = model / "GPTQ_8bit_CPU";
  for (const char* f : {"model.safetensors", "config.json", "quantize_config.json", "tokenizer.json", "quantize.log"})
    CHECK(fs::is_regular_file(out / f));
  CHECK_THAT(read_text(out / "config.json"), Catch::Contains("\"quantization_config\""));
  CHECK_THAT(read_text(out / "quantize_config.json"), Catch::Contains("\"bits\": 8"));
  const std::string log = read_text(out / "quantize.log");
  CHECK(count_of(log, "fallback_dataset \"wikitext2-valid\"") == 1);
}

TEST_CASE("quantize --gptq uses wiki.train.raw when the user has it and then does not warn",
          "[cli][gptq][calibration]") {
  TempDir work("gptq_train");
  const fs::path data = work.path() / "data";
  fs::create_directories(data / "wikitext-2-raw");
  // Any text will do as a train split here: the check is which file is used.
  fs::copy_file(std::string(QF_TEST_DATA_DIR) + "/text/heldout.txt", data / "wikitext-2-raw" / "wiki.train.raw");
  const ScopedEnv env("QUANTFORGE_DATA_DIR", data.string());
  const fs::path model = copy_tiny_llama(work.path());
  const auto r = run("quantize " + model.string() + " --gptq --num_samples 4 --seqlen 256 --threads 1");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(count_of(r.output, "not found") == 0);
  CHECK(count_of(r.output, "fallback_dataset") == 0);
  CHECK_THAT(r.output, Catch::Contains("calibration data: wikitext2 (GPTQ paper protocol) from " +
                                       (data / "wikitext-2-raw" / "wiki.train.raw").string() +
                                       " (train split, as the reference;"));
  CHECK(fs::is_regular_file(model / "GPTQ_8bit_CPU" / "model.safetensors"));
}

TEST_CASE("a dataset named with --dataset is never replaced by the recipe's fallback", "[cli][gptq][calibration]") {
  TempDir work("gptq_named");
  const ScopedEnv env("QUANTFORGE_DATA_DIR", work.path().string());
  const fs::path model = copy_tiny_llama(work.path());
  const auto r = run("quantize " + model.string() + " --gptq --dataset wikitext2 --threads 1");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("calibration dataset \"wikitext2\" not found") &&
                           Catch::Contains((work.path() / "wiki.train.raw").string()) &&
                           Catch::Contains("is --dataset wikitext2-valid"));
  CHECK_THAT(r.output, !Catch::Contains("fallback_dataset"));
  CHECK_FALSE(fs::exists(model / "GPTQ_8bit_CPU" / "model.safetensors"));
}
