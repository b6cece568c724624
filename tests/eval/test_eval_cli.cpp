// `quantforge eval`: exit codes and messages, a short run on the bundled model, and an RTN output
// made by `quantforge quantize --recipe rtn` evaluated against its base model.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "non_finite_model.hpp"
#include "support/temp_dir.hpp"

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

// A random fixture model with its family's tokenizer beside it, as a user's model folder looks.
qf::test::TempDir model_with_tokenizer(const std::string& family) {
  qf::test::TempDir dir("eval_cli_" + family);
  for (const auto& e : fs::directory_iterator(kData / "models" / family)) fs::copy_file(e.path(), dir / e.path().filename());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(kData / "tokenizers" / family / f, dir / f);
  return dir;
}

// The ppl column of the table row that starts with `label` ("label  windows  tokens  ppl").
double table_ppl(const std::string& output, const std::string& label) {
  const auto at = output.find("\n" + label + " ");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  std::istringstream row(output.substr(at + 1 + label.size(), output.find('\n', at + 1) - at - 1 - label.size()));
  long windows = 0, tokens = 0;
  std::string ppl;
  row >> windows >> tokens >> ppl;
  return ppl.empty() ? std::numeric_limits<double>::quiet_NaN() : std::stod(ppl);
}

const nlohmann::json& family_golden(const std::string& family) {
  static const nlohmann::json j = [] {
    std::ifstream in(kData / "goldens" / "eval_special_tokens.json");
    return nlohmann::json::parse(in);
  }();
  return j.at("families").at(family);
}

}  // namespace

TEST_CASE("eval usage errors exit 2", "[cli][eval]") {
  auto r = run("eval");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("eval needs the model"));
  r = run("eval " + kTiny + " --dtype fp16");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("--dtype must be auto, fp32 or bf16"));
  r = run("eval " + kTiny + " --seqlen 1");
  CHECK(r.code == 2);
  r = run("eval " + kTiny + " --no-such-flag");
  CHECK(r.code == 2);
  r = run("--help");
  CHECK_THAT(r.output, Catch::Contains("eval MODEL"));
}

TEST_CASE("eval errors exit 1 with the reason", "[cli][eval]") {
  const qf::test::TempDir empty_tmp("eval_cli_empty");
  const fs::path& empty = empty_tmp.path();
  auto r = run("eval " + kTiny + " --dataset wikitext2 --dataset-path " + empty.string());
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("not found") && Catch::Contains((empty / "wiki.test.raw").string()));
  r = run("eval " + kTiny + " --variant AWQ --dataset " + kHeldout);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("variant \"AWQ\" not found"));
}

TEST_CASE("eval of the bundled model on a few windows prints the table", "[cli][eval]") {
  const auto r = run("eval " + kTiny + " --dataset " + kHeldout + " --seqlen 512 --max-windows 3 --threads 2");
  INFO(r.output);
  CHECK(r.code == 0);
  // 82710 text tokens and the <s> tiny-llama's post-processor puts before them, as tokenizer(text) does.
  CHECK_THAT(r.output, Catch::Contains("3 windows x 512 tokens") && Catch::Contains("82711 tokens in the text") &&
                           Catch::Contains("ETA") && Catch::Contains("windows/s"));
  // --dtype auto (the default) says what it chose and why: bf16 only for this 16-bit checkpoint on a CPU
  // with fast bf16 matmul.
  CHECK_THAT(r.output, Catch::Contains("compute: bf16 (auto: 16-bit checkpoint") ||
                           Catch::Contains("compute: fp32 (auto: this CPU has no AMX/AVX512 bf16 matmul"));
  const auto fp32 = run("eval " + kTiny + " --dataset " + kHeldout + " --seqlen 512 --max-windows 1 --dtype fp32");
  CHECK(fp32.code == 0);
  CHECK_THAT(fp32.output, Catch::Contains("compute: fp32\n"));
}

TEST_CASE("quantize --recipe rtn, then eval the output against its base", "[cli][eval]") {
  const qf::test::TempDir tmp("eval_cli_rtn");
  const fs::path copy = tmp / "tiny-llama";
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
}

TEST_CASE("eval's default stream is tokenizer(text), printed; --add-bos and --no-bos choose", "[cli][eval][special_tokens]") {
  const qf::test::TempDir llama = model_with_tokenizer("llama-random");
  // fp32: the goldens are transformers' fp32 perplexities (the default picks bf16 on AMX CPUs).
  const std::string common = " --dataset " + kHeldout + " --seqlen 128 --max-windows 32 --threads 2 --dtype fp32";
  auto r = run("eval " + llama.string() + common);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const std::string bos_line =
      "special tokens: <s> (id 1) at the start, added by the tokenizer's post-processor as tokenizer(text) does";
  CHECK_THAT(r.output, Catch::Contains(bos_line));
  const double golden = family_golden("llama-random").at("default").at("ppl").get<double>();
  CHECK(std::abs(table_ppl(r.output, llama.string()) - golden) / golden < 1e-4);

  r = run("eval " + llama.string() + common + " --no-bos");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("special tokens: none (--no-bos)"));
  const double plain = family_golden("llama-random").at("no_special").at("ppl").get<double>();
  CHECK(std::abs(table_ppl(r.output, llama.string()) - plain) / plain < 1e-4);

  r = run("eval " + llama.string() + common + " --add-bos");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("special tokens: one BOS <s> (id 1) at the start (--add-bos)"));
  CHECK(std::abs(table_ppl(r.output, llama.string()) - golden) / golden < 1e-4);  // the same stream here

  r = run("eval " + llama.string() + common + " --add-bos --no-bos");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("--add-bos and --no-bos exclude each other"));

  const qf::test::TempDir qwen = model_with_tokenizer("qwen2-random");
  r = run("eval " + qwen.string() + common);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("special tokens: none (the tokenizer's post-processor adds none"));
  r = run("eval " + qwen.string() + common + " --add-bos");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("--add-bos: the tokenizer defines no BOS token"));
}

TEST_CASE("eval of a model that produces NaN fails naming the window and the layer", "[cli][eval][non_finite]") {
  const qf::test::TempDir dir_tmp("eval_cli_nan");
  const fs::path& dir = dir_tmp.path();
  qf::test::write_model_with_bad_weight(kData / "models" / "llama-random", dir, "model.layers.1.self_attn.o_proj.weight",
                                        3, std::numeric_limits<float>::quiet_NaN(), kData / "tokenizers" / "llama-random");
  const auto r = run("eval " + dir.string() + " --dataset " + kHeldout + " --seqlen 128 --max-windows 2");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("the model: window 1 of 2 (tokens 0..127): the output of layer 1 "
                                       "(model.layers.1) became non-finite (NaN or Inf)"));
  CHECK_THAT(r.output, !Catch::Contains("perplexity on "));  // no table of NaNs
}
