// The default token stream of `quantforge eval` is transformers' `tokenizer(text)`:
// tests/data/goldens/eval_special_tokens.json (transformers 5.17, tools/fixtures/make_special_token_goldens.py)
// holds, for every fixture family, that stream on text/heldout.txt and the fp32 perplexity of the
// model on it; and tokenizer(S) under variants of tokenizer_config.json ("rules").
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/eval_tokens.hpp"
#include "eval/model_open.hpp"
#include "eval/perplexity.hpp"
#include "fake_quant_model.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using qf::eval::SpecialTokens;
using qf::eval::tokenize_for_eval;

namespace {

const json& goldens() {
  static const json j = [] {
    std::ifstream in(qf::test::kData / "goldens" / "eval_special_tokens.json");
    return json::parse(in);
  }();
  return j;
}

std::string heldout_text() {
  std::ifstream in(qf::test::kData / "text" / "heldout.txt", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int32_t> ints(const json& a) { return a.get<std::vector<int32_t>>(); }

// The golden's summary of a stream: count, sum of ids, sum of (position + 1) * id, both ends.
void check_stream(const std::vector<int32_t>& ids, const json& golden) {
  int64_t sum = 0, weighted = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    sum += ids[i];
    weighted += static_cast<int64_t>(i + 1) * ids[i];
  }
  CHECK(ids.size() == golden.at("count").get<size_t>());
  CHECK(sum == golden.at("sum").get<int64_t>());
  CHECK(weighted == golden.at("weighted_sum").get<int64_t>());
  const auto first = ints(golden.at("first")), last = ints(golden.at("last"));
  REQUIRE(ids.size() >= first.size());
  CHECK(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<long>(first.size())) == first);
  CHECK(std::vector<int32_t>(ids.end() - static_cast<long>(last.size()), ids.end()) == last);
}

}  // namespace

TEST_CASE("default eval tokens equal tokenizer(text) and give transformers' perplexity on every fixture family",
          "[eval][special_tokens][golden]") {
  const std::string text = heldout_text();
  const json& families = goldens().at("families");
  REQUIRE(families.size() == 6);  // llama, mistral, qwen2, qwen3, opt, tiny-llama
  for (const auto& [name, g] : families.items()) {
    INFO(name);
    REQUIRE_FALSE(g.contains("error"));
    const auto tokenizer = qf::tok::Tokenizer::from_dir(qf::test::kData / g.at("tokenizer").get<std::string>());
    const auto stream = tokenize_for_eval(tokenizer, text, SpecialTokens::Tokenizer);
    check_stream(stream.ids, g.at("default_stream"));
    CHECK(tokenizer.special_prefix() == ints(g.at("special_prefix")));
    CHECK(tokenizer.special_suffix() == ints(g.at("special_suffix")));
    CHECK(stream.warnings.empty());

    const auto m = qf::eval::open_model_for_eval(qf::test::kData / g.at("model").get<std::string>());
    const qf::model::Model model(m.config, m.weights);
    const json& gd = g.at("default");
    qf::eval::PerplexityOptions opt;
    opt.seqlen = gd.at("seqlen").get<int64_t>();
    opt.max_windows = gd.at("windows").get<int64_t>();
    opt.batch = 8;
    const auto r = qf::eval::evaluate_perplexity(model, nullptr, stream.ids, opt);
    const double golden = gd.at("ppl").get<double>(), other = g.at("no_special").at("ppl").get<double>();
    std::printf("[special tokens] %-15s %-40s ppl %.6f, transformers %.6f (without special tokens %.6f)\n",
                name.c_str(), stream.special.substr(0, 40).c_str(), r.ppl, golden, other);
    CHECK(r.windows == opt.max_windows);
    CHECK(std::abs(r.ppl - golden) / golden < 1e-4);
    const auto nlls = g.at("default").at("first_window_nlls").get<std::vector<double>>();
    for (size_t i = 0; i < nlls.size(); ++i) CHECK(r.window_nll[i] == Approx(nlls[i]).margin(5e-5));
    // Where the tokenizer adds a token, the stream without it is measurably different: the check
    // above tells the two apart.
    if (!tokenizer.special_prefix().empty()) {
      CHECK(std::abs(other - golden) / golden > 1e-4);
      CHECK(std::abs(r.window_nll[0] - g.at("no_special").at("first_window_nlls")[0].get<double>()) > 1e-3);
    }
  }
}

TEST_CASE("--no-bos is encode without special tokens, --add-bos exactly one BOS before it", "[eval][special_tokens]") {
  const std::string text = heldout_text();
  for (const char* name : {"llama-random", "qwen2-random", "opt-random"}) {
    INFO(name);
    const json& g = goldens().at("families").at(name);
    const auto tokenizer = qf::tok::Tokenizer::from_dir(qf::test::kData / g.at("tokenizer").get<std::string>());
    const auto none = tokenize_for_eval(tokenizer, text, SpecialTokens::None);
    check_stream(none.ids, g.at("no_special_stream"));
    CHECK(none.special == "none (--no-bos)");
    if (tokenizer.bos_id()) {
      const auto bos = tokenize_for_eval(tokenizer, text, SpecialTokens::Bos);
      REQUIRE(bos.ids.size() == none.ids.size() + 1);
      CHECK(bos.ids[0] == *tokenizer.bos_id());
      CHECK(std::equal(none.ids.begin(), none.ids.end(), bos.ids.begin() + 1));
      CHECK_THAT(bos.special, Catch::StartsWith("one BOS ") && Catch::EndsWith("at the start (--add-bos)"));
    } else {  // Qwen2: bos_token null and a post-processor that adds nothing
      CHECK_THROWS_WITH(tokenize_for_eval(tokenizer, text, SpecialTokens::Bos),
                        Catch::StartsWith("--add-bos: the tokenizer defines no BOS token"));
    }
  }
  const auto llama = qf::tok::Tokenizer::from_dir(qf::test::kData / "tokenizers" / "llama-random");
  CHECK(tokenize_for_eval(llama, "Hello", SpecialTokens::Tokenizer).special ==
        "<s> (id 1) at the start, added by the tokenizer's post-processor as tokenizer(text) does (--no-bos for none)");
  const auto qwen = qf::tok::Tokenizer::from_dir(qf::test::kData / "tokenizers" / "qwen2-random");
  CHECK(tokenize_for_eval(qwen, "Hello", SpecialTokens::Tokenizer).special ==
        "none (the tokenizer's post-processor adds none, as tokenizer(text); --add-bos prepends a BOS)");
}

// transformers 5.17 encodes with tokenizer.json's post-processor whatever tokenizer_config.json's
// add_bos_token / add_eos_token say (the goldens show it for TokenizersBackend and LlamaTokenizer);
// the disagreement is reported as a warning.
TEST_CASE("tokenizer(S) under tokenizer_config.json variants matches transformers", "[eval][special_tokens][golden]") {
  const std::string s = goldens().at("rule_text").get<std::string>();
  int compared = 0, warned = 0;
  for (const json& c : goldens().at("rules")) {
    INFO(c.at("case").get<std::string>());
    if (c.contains("error")) continue;  // transformers itself refused the config (a dict bos_token)
    const qf::test::TempDir dir_tmp("rule");
    const fs::path& dir = dir_tmp.path();
    std::ifstream in(qf::test::kData / c.at("tokenizer").get<std::string>() / "tokenizer.json");
    json tj = json::parse(in);
    if (c.at("post_processor_removed").get<bool>()) tj["post_processor"] = nullptr;
    std::ofstream(dir / "tokenizer.json") << tj.dump();
    std::ofstream(dir / "tokenizer_config.json") << c.at("tokenizer_config").dump();
    const auto t = qf::tok::Tokenizer::from_dir(dir);
    CHECK(t.encode(s, true) == ints(c.at("ids")));
    CHECK(t.encode(s, false) == ints(c.at("ids_no_special")));
    const auto stream = tokenize_for_eval(t, s, SpecialTokens::Tokenizer);
    CHECK(stream.ids == ints(c.at("ids")));
    const json& cfg = c.at("tokenizer_config");
    const bool adds_bos = !t.special_prefix().empty(), adds_eos = !t.special_suffix().empty();
    const bool contradicts = (cfg.contains("add_bos_token") && cfg["add_bos_token"].get<bool>() != adds_bos) ||
                             (cfg.contains("add_eos_token") && cfg["add_eos_token"].get<bool>() != adds_eos);
    CHECK(stream.warnings.empty() == !contradicts);
    for (const auto& w : stream.warnings) CHECK_THAT(w, Catch::Contains("following tokenizer.json"));
    warned += contradicts;
    ++compared;
  }
  CHECK(compared == 14);
  CHECK(warned == 9);
}
