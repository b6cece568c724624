// The quantforge executable: exit codes and one-line errors for command-line mistakes, plugin
// listing, recipe show with overrides, and a quantize run on the bundled model.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

struct Result {
  int code;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = std::string(QF_BINARY_DIR) + "/bin/quantforge " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
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
  const fs::path dir = fs::temp_directory_path() / "qf_cli_tiny_llama";
  fs::remove_all(dir);
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
  fs::remove_all(dir);
}
