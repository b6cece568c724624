// A model whose output becomes NaN/Inf is an error naming the window, its tokens and the first stage
// (embeddings, decoder layer, final norm, lm_head) that produced a non-finite value, not "ppl = nan".
// The broken checkpoints are copies of llama-random with one weight element replaced.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "common/error.hpp"
#include "eval/eval_tokens.hpp"
#include "eval/model_open.hpp"
#include "eval/perplexity.hpp"
#include "fake_quant_model.hpp"
#include "non_finite_model.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kModel = qf::test::kData / "models" / "llama-random";
const fs::path kTokenizer = qf::test::kData / "tokenizers" / "llama-random";

std::vector<int32_t> heldout_stream() {
  static const std::vector<int32_t> ids = [] {
    std::ifstream in(qf::test::kData / "text" / "heldout.txt", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return qf::eval::tokenize_for_eval(qf::tok::Tokenizer::from_dir(kTokenizer), ss.str(),
                                       qf::eval::SpecialTokens::Tokenizer)
        .ids;
  }();
  return ids;
}

qf::eval::PerplexityOptions four_windows() {
  qf::eval::PerplexityOptions o;
  o.seqlen = 128;
  o.max_windows = 4;
  o.batch = 8;  // all four in one batch: the error must still name the right one
  return o;
}

std::string error_of(const qf::model::Model& model, const qf::model::Model* base) {
  try {
    qf::eval::evaluate_perplexity(model, base, heldout_stream(), four_windows());
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a NaN weight in a decoder layer names the first window and that layer", "[eval][non_finite]") {
  const qf::test::TempDir dir_tmp("eval_nan_layer");
  const fs::path& dir = dir_tmp.path();
  qf::test::write_model_with_bad_weight(kModel, dir, "model.layers.1.mlp.down_proj.weight", 0,
                                        std::numeric_limits<float>::quiet_NaN());
  const auto bad = qf::eval::open_model_for_eval(dir), good = qf::eval::open_model_for_eval(kModel);
  const qf::model::Model broken(bad.config, bad.weights), fine(good.config, good.weights);
  const std::string e = error_of(broken, nullptr);
  CHECK(e ==
        "the model: window 1 of 4 (tokens 0..127): the output of layer 1 (model.layers.1) became non-finite (NaN or "
        "Inf); look for NaN/Inf weights there, or, computing in bf16, an overflow (try --dtype fp32)");
  // The base model is checked the same way; the model under test is fine here.
  CHECK_THAT(error_of(fine, &broken),
             Catch::StartsWith("the base model (--base): window 1 of 4 (tokens 0..127): the output of layer 1"));
  // The unbroken copy evaluates normally (the error comes from the NaN, not from the rewrite).
  CHECK(std::isfinite(qf::eval::evaluate_perplexity(fine, nullptr, heldout_stream(), four_windows()).ppl));
}

TEST_CASE("an Inf embedding of a token first seen in window 3 names window 3", "[eval][non_finite]") {
  const auto& ids = heldout_stream();
  std::set<int32_t> early(ids.begin(), ids.begin() + 256);
  int32_t late = -1;
  for (size_t i = 256; i < 384 && late < 0; ++i)
    if (!early.count(ids[i])) late = ids[i];
  REQUIRE(late >= 0);
  const qf::test::TempDir dir_tmp("eval_inf_embedding");
  const fs::path& dir = dir_tmp.path();
  qf::test::write_model_with_bad_weight(kModel, dir, "model.embed_tokens.weight", late,
                                        std::numeric_limits<float>::infinity());
  const auto bad = qf::eval::open_model_for_eval(dir);
  const qf::model::Model broken(bad.config, bad.weights);
  CHECK_THAT(error_of(broken, nullptr),
             Catch::StartsWith("the model: window 3 of 4 (tokens 256..383): the token embeddings became non-finite"));
}
