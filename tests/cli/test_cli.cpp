// The quantforge executable: exit codes and one-line errors for command-line mistakes, plugin
// listing, recipe show with overrides, and a quantize run on the bundled model.
#include <catch2/catch.hpp>

#include "shell_run.hpp"
#include "support/temp_dir.hpp"
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

using qf::test::Result;

Result run(const std::string& args) {
  return qf::test::run_shell(std::string(QF_BINARY_DIR) + "/bin/quantforge " + args);
}

using qf::test::TempDir;

// A copy of the bundled tiny model inside `dir`.
fs::path tiny_model(const TempDir& dir) {
  const fs::path model = dir / "tiny-llama";
  fs::copy(std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama", model, fs::copy_options::recursive);
  return model;
}

// Every path under `dir` with its size: equal before and after means nothing was written.
std::set<std::pair<std::string, uintmax_t>> snapshot(const fs::path& dir) {
  std::set<std::pair<std::string, uintmax_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out.emplace(e.path().string(), e.is_regular_file() ? e.file_size() : 0);
  return out;
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("usage errors exit 2 with one clear line", "[cli]") {
  auto r = run("quantize /tmp --awq --gptq");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("mutually exclusive"));
  r = run("frobnicate");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("unknown command 'frobnicate'"));
  r = run("quantize");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("needs the model folder"));
  r = run("quantize /tmp --no-such-flag");
  CHECK(r.code == 2);
}

TEST_CASE("plugins list and describe", "[cli]") {
  auto r = run("plugins list");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("rtn") && Catch::Contains("safetensors_writer") && Catch::Contains("index_writer"));
  r = run("plugins describe rtn");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("kind:        method") && Catch::Contains("group_size") && Catch::Contains("default 128"));
  r = run("plugins describe nosuch");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("no plugin named 'nosuch'"));
}

TEST_CASE("recipe show resolves overrides onto the method's option names", "[cli]") {
  auto r = run("recipe show --recipe rtn --bits 8 --group_size 64");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("bits = 8") && Catch::Contains("group_size = 64") && Catch::Contains("--bits"));
  r = run("recipe show --gptq");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("plugin = \"gptq\""));
  r = run("recipe show --recipe rtn --zero_point true");  // rtn declares sym: zero_point=true -> sym=false
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("sym = false"));
}

TEST_CASE("quantize on a copy of the bundled model; bad inputs fail cleanly", "[cli]") {
  const TempDir tmp("cli_tiny_llama");
  const fs::path dir = tmp / "tiny-llama";
  fs::copy(std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama", dir, fs::copy_options::recursive);
  auto r = run("quantize " + dir.string() + " --recipe rtn --bits 8 --threads 1");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("layer 4/4") && Catch::Contains("ETA") && Catch::Contains("->"));
  CHECK(fs::exists(dir / "RTN_8bit_CPU" / "model.safetensors"));
  CHECK(fs::exists(dir / "RTN_8bit_CPU" / "quantize.log"));
  CHECK(fs::exists(dir / "RTN_8bit_CPU" / "tokenizer.json"));
  r = run("quantize " + dir.string() + " --recipe rtn --bits 3");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("bits must be 2, 4 or 8"));
  CHECK_FALSE(fs::exists(dir / "RTN_3bit_CPU" / "model.safetensors"));
  r = run("quantize " + dir.string() + " --recipe rtn --bits four");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("--bits") && Catch::Contains("must be int"));
  r = run("quantize /nonexistent/model --recipe rtn");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("model folder not found"));
}

TEST_CASE("kept forward states change no byte of an AWQ or a GPTQ output", "[cli][forward-states]") {
  // The same run with the layer's intermediate states kept (the default) and with none kept (every
  // capture forwards from the layer's input): the arithmetic is the same, so the files must be too.
  const TempDir tmp("cli_forward_states");
  const fs::path model = tiny_model(tmp);
  for (const std::string method : {"--awq", "--gptq --bits 4"}) {
    INFO(method);
    const std::string args = "quantize " + model.string() + " " + method + " --num_samples 8 --seqlen 64 --threads 1";
    auto kept = run(args + " --output " + (tmp / "kept").string());
    REQUIRE(kept.code == 0);
    CHECK_THAT(kept.output, Catch::Contains("kept layer states up to"));
    {
      qf::test::ScopedEnv none("QUANTFORGE_FORWARD_STATE_BYTES", "0");
      auto fresh = run(args + " --output " + (tmp / "fresh").string());
      REQUIRE(fresh.code == 0);
      CHECK_THAT(fresh.output, Catch::Contains("kept layer states up to 0 MiB"));
    }
    std::ifstream a(tmp / "kept" / "model.safetensors", std::ios::binary), b(tmp / "fresh" / "model.safetensors",
                                                                                 std::ios::binary);
    const std::string bytes_kept((std::istreambuf_iterator<char>(a)), std::istreambuf_iterator<char>());
    const std::string bytes_fresh((std::istreambuf_iterator<char>(b)), std::istreambuf_iterator<char>());
    CHECK(bytes_kept.size() > 100000);
    CHECK(bytes_kept == bytes_fresh);
    fs::remove_all(tmp / "kept");
    fs::remove_all(tmp / "fresh");
  }
}

TEST_CASE("--quant_config: unknown keys are an error, other tools' keys a warning", "[cli][quant_config]") {
  TempDir dir;
  const std::string typo = dir.write("typo.json", R"({"bits": 8, "group_sise": 64})").string();
  auto r = run("recipe show --recipe rtn --quant_config " + typo);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("quantforge: error: " + typo +
                                       ": unknown quant_config key 'group_sise' (did you mean 'group_size'?); "
                                       "method 'rtn' reads bits, checkpoint_format, group_size, sym"));
  CHECK_THAT(r.output, !Catch::Contains("[method]"));  // no recipe printed

  const std::string gptq = dir.write("quantize_config.json", R"({"bits": 8, "group_size": 64, "damp_percent": 0.01,
    "desc_act": false, "sym": true, "true_sequential": true, "model_name_or_path": null, "quant_method": "gptq"})").string();
  r = run("recipe show --recipe rtn --quant_config " + gptq);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("group_size = 64") && Catch::Contains("quantize_config.json: group_size") &&
                           Catch::Contains("bits = 8") && Catch::Contains("sym = true"));
  CHECK(count(r.output, "quantforge: warning:") == 1);
  CHECK_THAT(r.output, Catch::Contains("quantforge: warning: " + gptq +
                                       ": keys method 'rtn' does not read, ignored: damp_percent, desc_act, "
                                       "quant_method, true_sequential, model_name_or_path (null)"));

  const std::string nothing = dir.write("nothing.json", R"({"quant_method": "awq"})").string();
  r = run("recipe show --recipe rtn --quant_config " + nothing);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains(nothing + ": no quant_config key sets an option of method 'rtn' (not read: "
                                                 "quant_method)"));
}

TEST_CASE("--threads below 0 is a usage error for quantize and eval, before anything is written", "[cli][threads]") {
  TempDir dir;
  const fs::path model = tiny_model(dir);
  const auto before = snapshot(dir.path());
  for (const std::string threads : {"--threads=-3", "--threads -1"}) {
    auto r = run("quantize " + model.string() + " --recipe rtn " + threads);
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("quantforge: --threads must be 0 (use all cores) or a positive number of "
                                         "threads, got -"));
    CHECK(snapshot(dir.path()) == before);
    r = run("eval " + model.string() + " --max-windows 1 --seqlen 16 " + threads);
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("--threads must be 0 (use all cores) or a positive number of threads"));
  }
}

TEST_CASE("calibration flags given to a method without calibration are named in one warning", "[cli][calibration]") {
  TempDir dir;
  const fs::path model = tiny_model(dir);
  auto r = run("quantize " + model.string() + " --recipe rtn --threads 1 --dataset wikitext2 --seqlen 64 --seed 3");
  CHECK(r.code == 0);
  CHECK(count(r.output, "uses no calibration data") == 1);
  CHECK_THAT(r.output,
             Catch::Contains("method 'rtn' uses no calibration data: ignoring --dataset, --seqlen, --seed"));
  CHECK(fs::exists(model / "RTN_4bit_CPU" / "model.safetensors"));
  r = run("quantize " + model.string() + " --recipe rtn --bits 8 --threads 1");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, !Catch::Contains("calibration"));
}

TEST_CASE("a broken library in a plugin folder does not take the others down", "[cli][plugins]") {
  TempDir dir;
  std::string random_bytes(2048, '\0');
  std::mt19937 gen(11);
  for (auto& c : random_bytes) c = static_cast<char>(gen() & 0xff);
  random_bytes[0] = 'Q';  // never the ELF magic
  const std::string garbage = dir.write("libgarbage_plugin.so", random_bytes).string();
  const std::string empty = dir.write("libempty_plugin.so", "").string();
  const std::string plugin_dir = " --plugin-dir " + dir.string();

  auto r = run("plugins list" + plugin_dir);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("rtn") && Catch::Contains("safetensors_writer") &&
                           Catch::Contains("index_writer") && Catch::Contains("failed to load (2):"));
  CHECK_THAT(r.output, Catch::Contains("  " + empty + "\n      empty file, not a shared library"));
  CHECK_THAT(r.output, Catch::Contains("  " + garbage + "\n      not a shared library (invalid ELF header)"));
  CHECK_THAT(r.output, !Catch::Contains("Bad file descriptor") && !Catch::Contains("warning"));

  // Other commands warn once per broken library and go on.
  r = run("recipe show --recipe rtn" + plugin_dir);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("plugin = \"rtn\""));
  CHECK(count(r.output, "quantforge: warning: skipped a plugin library that failed to load: ") == 2);
  CHECK(count(r.output, garbage + ": not a shared library (invalid ELF header)") == 1);
  r = run("plugins describe rtn" + plugin_dir);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("kind:        method") && Catch::Contains(empty + ": empty file"));

  // Unless the broken library is the one a command needs: then that is the error.
  const std::string recipe = dir.write("garbage.toml", "[method]\nplugin = \"garbage\"\n[[formats]]\n"
                                                       "plugin = \"safetensors_writer\"\n").string();
  const std::string needed = "quantforge: error: plugin 'garbage' is not available: its library failed to load: " +
                             garbage + ": not a shared library (invalid ELF header)";
  r = run("plugins describe garbage" + plugin_dir);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains(needed));
  const fs::path model = tiny_model(dir);
  const auto before = snapshot(dir.path());
  r = run("quantize " + model.string() + " --recipe " + recipe + plugin_dir);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains(needed));
  CHECK(snapshot(dir.path()) == before);
}
