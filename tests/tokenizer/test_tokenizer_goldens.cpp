// Every case of tests/data/tokenizers/goldens.json (made with the Rust `tokenizers` library):
// encode with and without special tokens, token strings, decode with and without skipping specials.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fixtures.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string show_ids(const std::vector<int32_t>& v) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  os << ']';
  return os.str();
}

std::string quoted(const std::string& s) { return json(s).dump(); }

}  // namespace

TEST_CASE("tokenizer goldens (Rust tokenizers)", "[tokenizer][goldens]") {
  const fs::path data = fs::path(QF_TEST_DATA_DIR);
  const fs::path golden_path = qf::test::require_fixture(data / "tokenizers" / "goldens.json");
  std::ifstream in(golden_path);
  const json g = json::parse(in);
  const json& strings = g.at("strings");
  std::size_t total_checks = 0, failed_checks = 0;
  for (const auto& [name, spec] : g.at("tokenizers").items()) {
    const fs::path tok_json = data / spec.at("path").get<std::string>();
    const fs::path dir = tok_json.parent_path();
    INFO("tokenizer " << name << " (" << tok_json << ")");
    const qf::tok::Tokenizer tok = qf::tok::Tokenizer::from_dir(dir);
    if (spec.contains("vocab_size_with_added")) CHECK(tok.vocab_size() == spec["vocab_size_with_added"].get<int32_t>());
    const json& cases = spec.at("cases");
    REQUIRE(cases.size() == strings.size());
    std::size_t failed_cases = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const std::string text = strings[i].get<std::string>();
      const json& c = cases[i];
      std::vector<std::string> problems;
      auto check_ids = [&](const char* field, bool special, const char* tok_field) {
        const auto want = c.at(field).get<std::vector<int32_t>>();
        const auto got = tok.encode(text, special);
        ++total_checks;
        if (got != want) problems.push_back(std::string(field) + ": got " + show_ids(got) + " want " + show_ids(want));
        if (c.contains(tok_field)) {
          const auto want_tokens = c.at(tok_field).get<std::vector<std::string>>();
          std::vector<std::string> got_tokens;
          for (int32_t id : want) got_tokens.push_back(tok.id_to_token(id));
          ++total_checks;
          if (got_tokens != want_tokens) problems.push_back(std::string(tok_field) + ": id_to_token differs: " + json(got_tokens).dump());
        }
      };
      check_ids("ids", true, "tokens");
      check_ids("ids_no_special", false, "tokens_no_special");
      const auto ids = c.at("ids").get<std::vector<int32_t>>();
      auto check_decode = [&](const char* field, bool skip) {
        if (!c.contains(field)) return;
        const std::string want = c.at(field).get<std::string>();
        const std::string got = tok.decode(ids, skip);
        ++total_checks;
        if (got != want) problems.push_back(std::string(field) + ": got " + quoted(got) + " want " + quoted(want));
      };
      check_decode("decode", false);
      check_decode("decode_skip_special", true);
      if (!problems.empty()) {
        ++failed_cases;
        failed_checks += problems.size();
        std::ostringstream os;
        os << "[" << name << "] case " << i << " " << quoted(text) << ":";
        for (const auto& p : problems) os << "\n    " << p;
        UNSCOPED_INFO(os.str());
        std::cerr << os.str() << "\n";
      }
    }
    std::cerr << "golden " << name << ": " << (cases.size() - failed_cases) << "/" << cases.size() << " cases pass\n";
    CHECK(failed_cases == 0);
  }
  std::cerr << "golden checks: " << (total_checks - failed_checks) << "/" << total_checks << " pass\n";
}
