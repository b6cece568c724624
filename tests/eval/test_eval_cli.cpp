// `quantforge eval`: exit codes and messages, a short run on the bundled model, and an RTN output
// made by `quantforge quantize --recipe rtn` evaluated against its base model.
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
  const std::string cmd = "QUANTFORGE_DATA_DIR= " + std::string(QF_BINARY_DIR) + "/bin/quantforge " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const fs::path kData = QF_TEST_DATA_DIR;
const std::string kTiny = (kData / "models" / "tiny-llama").string();
const std::string kHeldout = (kData / "text" / "heldout.txt").string();

}  // namespace

TEST_CASE("eval usage errors exit 2", "[cli][eval]") {
  auto r = run("eval");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("eval needs the model"));
  r = run("eval " + kTiny + " --dtype fp16");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("--dtype must be fp32 or bf16"));
  r = run("eval " + kTiny + " --seqlen 1");
  CHECK(r.code == 2);
  r = run("eval " + kTiny + " --no-such-flag");
  CHECK(r.code == 2);
  r = run("--help");
  CHECK_THAT(r.output, Catch::Contains("eval MODEL"));
}

TEST_CASE("eval errors exit 1 with the reason", "[cli][eval]") {
  const fs::path empty = fs::temp_directory_path() / "qf_eval_cli_empty";
  fs::create_directories(empty);
  auto r = run("eval " + kTiny + " --dataset wikitext2 --dataset-path " + empty.string());
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("not found") && Catch::Contains((empty / "wiki.test.raw").string()));
  r = run("eval " + kTiny + " --variant AWQ --dataset " + kHeldout);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("variant \"AWQ\" not found"));
  fs::remove_all(empty);
}

TEST_CASE("eval of the bundled model on a few windows prints the table", "[cli][eval]") {
  const auto r = run("eval " + kTiny + " --dataset " + kHeldout + " --seqlen 512 --max-windows 3 --threads 2");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("3 windows x 512 tokens") && Catch::Contains("82710 tokens in the text") &&
                           Catch::Contains("ETA") && Catch::Contains("windows/s"));
}

TEST_CASE("quantize --recipe rtn, then eval the output against its base", "[cli][eval]") {
  const fs::path copy = fs::temp_directory_path() / "qf_eval_cli_rtn";
  fs::remove_all(copy);
  fs::copy(kTiny, copy);
  auto r = run("quantize " + copy.string() + " --recipe rtn --threads 2");
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(copy / "RTN_4bit_CPU" / "config.json"));
  r = run("eval " + (copy / "RTN_4bit_CPU").string() + " --base " + copy.string() + " --dataset " + kHeldout +
          " --seqlen 512 --max-windows 4 --batch 2");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("GPTQ v2 4-bit g128") && Catch::Contains("(base)") &&
                           Catch::Contains("KL(base||model): mean") && Catch::Contains("top-1 agreement"));
  fs::remove_all(copy);
}
