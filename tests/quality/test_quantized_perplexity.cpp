// The project's quality bar on the bundled trained fixture (tiny-llama, 4 layers): quantize with the
// real plugins through `quantforge quantize` (bundled calibration text, 512-token blocks), then score
// every 512-token window of tests/data/text/heldout.txt through our dequantizing loader:
//   GPTQ 8-bit g128 sym      within 0.5% of the fp model (golden from transformers, fp32)
//   GPTQ 4-bit g128 sym      below RTN 4-bit g128 sym    (the recipe's default grid; RTN from our rtn
//                                                         plugin, whose formulas test_eval checks
//                                                         against transformers goldens)
//   GPTQ 4-bit g128 asym     within 0.5% of RTN 4-bit g128 asym (golden). Not "below": on this 4-layer
//                            model an independent eager-PyTorch GPTQ on the same calibration windows
//                            does not beat RTN asym either (35.29 vs 35.25 at 64 windows, 35.32 at
//                            128; docs/gptq.md#reference-numbers), so "below" would test the
//                            fixture, not the code.
//   AWQ  4-bit g128 (GEMM)   below RTN 4-bit g128 asym   (AWQ stores fp16 scales, as the golden does),
//                            with fp32 layer forwards: in bf16 the search's output MSE carries bf16
//                            rounding noise of the size of the differences between grid points, and
//                            on this small model the result then scatters around RTN (35.26 / 35.02 /
//                            35.29 at 32 / 64 / 128 documents, fp32 35.14 / 35.16).
// Calibration is smaller than the defaults (GPTQ 64 blocks, AWQ 32 documents) to keep the test in a
// few minutes on 2 cores; the figures are printed for the record.
#include <ATen/ATen.h>  // before Catch: c10 logging defines CHECK too

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "eval/model_open.hpp"
#include "eval/perplexity.hpp"
#include "model/model.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kData = QF_TEST_DATA_DIR;
const fs::path kTiny = kData / "models" / "tiny-llama";

struct Cli {
  int code;
  std::string output;
};

Cli quantforge(const std::string& args) {
  const std::string cmd = "QUANTFORGE_DATA_DIR= " + std::string(QF_BINARY_DIR) + "/bin/quantforge " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

double golden_ppl(const std::string& run) {
  std::ifstream in(kData / "goldens" / "perplexity.json");
  const auto j = nlohmann::json::parse(in);
  return j.at("datasets").at("heldout").at("results").at(run).at("ppl").get<double>();
}

const std::vector<int32_t>& heldout_tokens() {
  static const std::vector<int32_t> tokens = [] {
    std::ifstream in(kData / "text" / "heldout.txt", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return qf::tok::Tokenizer::from_dir(kTiny).encode(ss.str(), /*add_special_tokens=*/false);
  }();
  return tokens;
}

// Perplexity over all 161 windows of 512 tokens, fp32 compute, through the dequantizing loader.
double heldout_ppl(const fs::path& dir, const std::string& expect_scheme) {
  const auto m = qf::eval::open_model_for_eval(dir);
  REQUIRE(m.scheme);
  CHECK(m.scheme->describe() == expect_scheme);
  CHECK(m.packed_linears == 28);
  const qf::model::Model model(m.config, m.weights);
  qf::eval::PerplexityOptions o;
  o.seqlen = 512;
  o.batch = 4;
  const auto r = qf::eval::evaluate_perplexity(model, nullptr, heldout_tokens(), o);
  CHECK(r.windows == 161);
  return r.ppl;
}

fs::path quantize(const fs::path& model, const std::string& name, const std::string& args) {
  const fs::path out = model.parent_path() / name;
  const auto r = quantforge("quantize " + model.string() + " " + args + " --output " + out.string() + " --threads 2");
  INFO(r.output);
  REQUIRE(r.code == 0);
  return out;
}

}  // namespace

TEST_CASE("GPTQ and AWQ beat RTN, GPTQ 8-bit matches fp, on the bundled model's held-out text", "[quality]") {
  const qf::test::TempDir tmp("quality");
  const fs::path& work = tmp.path();
  const fs::path model = work / "tiny-llama";  // GPTQ: the recipe's compute dtype (auto: bf16 on AMX)
  fs::copy(kTiny, model);

  const double fp = golden_ppl("fp32"), rtn4_asym = golden_ppl("rtn_w4_g128_asym_fp16_scales");
  const std::string gptq_calib = "--dataset bundled --num_samples 64 --seqlen 512";
  const double gptq8 = heldout_ppl(quantize(model, "gptq8", "--gptq " + gptq_calib), "GPTQ v1 8-bit g128");
  // 4-bit asymmetric GPTQ lands within about +-0.3% of RTN here, and where exactly moves with any change
  // of rounding in the calibration forwards: 60 / 64 / 68 windows gave 35.36 / 35.30 / 35.30 with the
  // blocked attention and 35.35 / 35.45 / 35.24 with the fused one (RTN 35.24; docs/gptq.md). One run is
  // one draw from that spread, so the check takes the median of three calibration sizes.
  std::vector<double> gptq4_asym_runs;
  for (const char* windows : {"60", "64", "68"})
    gptq4_asym_runs.push_back(heldout_ppl(
        quantize(model, std::string("gptq4a-") + windows,
                 std::string("--gptq --bits 4 --sym false --dataset bundled --seqlen 512 --num_samples ") + windows),
        "GPTQ v2 4-bit g128"));
  std::vector<double> sorted_runs = gptq4_asym_runs;
  std::sort(sorted_runs.begin(), sorted_runs.end());
  const double gptq4_asym = sorted_runs[1];
  const double gptq4_sym = heldout_ppl(quantize(model, "gptq4s", "--gptq --bits 4 " + gptq_calib), "GPTQ v1 4-bit g128");
  const double rtn4_sym = heldout_ppl(quantize(model, "rtn4s", "--recipe rtn --sym true"), "GPTQ v1 4-bit g128");
  // configs/awq.toml with fp32 layer forwards (the only change).
  std::ifstream awq_in(fs::path(QF_SOURCE_DIR) / "configs" / "awq.toml");
  std::stringstream awq_toml;
  awq_toml << awq_in.rdbuf();
  std::string recipe = awq_toml.str();
  const std::string auto_dtype = "compute_dtype = \"auto\"";
  REQUIRE(recipe.find(auto_dtype) != std::string::npos);
  recipe.replace(recipe.find(auto_dtype), auto_dtype.size(), "compute_dtype = \"fp32\"");
  std::ofstream(work / "awq-fp32.toml") << recipe;
  const double awq4 = heldout_ppl(
      quantize(model, "awq4", "--recipe " + (work / "awq-fp32.toml").string() + " --dataset bundled --num_samples 32"),
      "AWQ GEMM 4-bit g128");

  std::printf("[quality] heldout ppl (161 x 512 tokens): fp32 %.4f (golden) | GPTQ w8 sym %.4f | "
              "GPTQ w4 asym %.4f vs RTN w4 asym %.4f (golden) | GPTQ w4 sym %.4f vs RTN w4 sym %.4f | AWQ w4 %.4f\n",
              fp, gptq8, gptq4_asym, rtn4_asym, gptq4_sym, rtn4_sym, awq4);
  std::printf("[quality] GPTQ w4 asym with 60 / 64 / 68 calibration windows: %.4f / %.4f / %.4f (median above)\n",
              gptq4_asym_runs[0], gptq4_asym_runs[1], gptq4_asym_runs[2]);
  INFO("fp " << fp << ", gptq8 " << gptq8 << ", gptq4 asym " << gptq4_asym << " (rtn " << rtn4_asym << "), gptq4 sym "
             << gptq4_sym << " (rtn " << rtn4_sym << "), awq " << awq4);
  CHECK(std::abs(gptq8 / fp - 1.0) < 0.005);
  CHECK(gptq4_asym < rtn4_asym * 1.005);
  CHECK(gptq4_sym < rtn4_sym);
  CHECK(awq4 < rtn4_asym);
  // Originals untouched by seven runs.
  for (const auto& e : fs::directory_iterator(kTiny)) {
    std::ifstream a(e.path(), std::ios::binary), b(model / e.path().filename(), std::ios::binary);
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    CHECK(sa.str() == sb.str());
  }
}
