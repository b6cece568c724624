// First-principles tests: hand-built tokenizer.json files written to a temp folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.hpp"
#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer/byte_level.hpp"
#include "tokenizer/pattern.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/utf8.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using qf::tok::Tokenizer;

namespace {

fs::path write_file(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name, std::ios::binary) << text;
  return dir / name;
}

Tokenizer load(const json& tok, const json& cfg = json()) {
  const qf::test::TempDir d("tok_test");
  write_file(d.path(), "tokenizer.json", tok.dump());
  if (!cfg.is_null()) write_file(d.path(), "tokenizer_config.json", cfg.dump());
  return Tokenizer::from_dir(d.path());
}

std::string bl(const std::string& raw) {  // byte-level form of a raw string
  std::string out;
  qf::tok::byte_level::encode_bytes(raw, out);
  return out;
}

// Byte-level BPE: the 256 byte symbols (ids 0..255), then merged tokens in `merges` order.
json byte_level_tokenizer(const std::vector<std::pair<std::string, std::string>>& merges, bool merges_as_arrays = false) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[qf::tok::utf8::encode(qf::tok::byte_level::byte_to_char(uint8_t(b)))] = b;
  json m = json::array();
  int next = 256;
  for (const auto& [a, b] : merges) {
    if (!vocab.contains(a + b)) vocab[a + b] = next++;
    m.push_back(merges_as_arrays ? json::array({a, b}) : json(a + " " + b));
  }
  vocab["<|endoftext|>"] = next;
  return json{{"version", "1.0"},
              {"added_tokens",
               json::array({{{"id", next}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false},
                             {"rstrip", false}, {"normalized", false}, {"special", true}}})},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
              {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
              {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false},
                         {"byte_fallback", false}, {"vocab", vocab}, {"merges", m}}}};
}

// SentencePiece-style BPE (Llama-2 shape): <unk> <s> </s>, 256 byte tokens, then pieces.
json spm_tokenizer(const json& pre_tokenizer, const json& normalizer, const std::vector<std::pair<std::string, std::string>>& merges,
                   const std::vector<std::string>& extra_pieces) {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  int next = 259;
  for (const std::string& p : extra_pieces)
    if (!vocab.contains(p)) vocab[p] = next++;
  json m = json::array();
  for (const auto& [a, b] : merges) {
    if (!vocab.contains(a + b)) vocab[a + b] = next++;
    m.push_back(a + " " + b);
  }
  auto special = [](int id, const char* c) {
    return json{{"id", id}, {"content", c}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                {"normalized", false}, {"special", true}};
  };
  return json{
      {"added_tokens", json::array({special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")})},
      {"normalizer", normalizer},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
        {"pair", json::array()},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}},
                                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}}},
      {"model", {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true}, {"vocab", vocab}, {"merges", m}}}};
}

const std::string kSp = "\xE2\x96\x81";  // U+2581

std::vector<std::string> tokens_of(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::vector<std::string> v;
  for (int32_t id : ids) v.push_back(t.id_to_token(id));
  return v;
}

}  // namespace

TEST_CASE("bytes_to_unicode table facts", "[tokenizer]") {
  using namespace qf::tok::byte_level;
  CHECK(byte_to_char(0x20) == U'\u0120');  // 'Ġ'
  CHECK(byte_to_utf8(0x20) == "\xC4\xA0");
  CHECK(byte_to_char(0x0A) == U'\u010A');  // 'Ċ'
  CHECK(byte_to_char(0x00) == U'\u0100');
  CHECK(byte_to_char('A') == U'A');
  CHECK(byte_to_char('!') == U'!');
  CHECK(byte_to_char(0x7F) == U'\u0121');
  CHECK(byte_to_char(0xA0) == U'\u0142');
  CHECK(byte_to_char(0xAD) == U'\u0143');
  CHECK(byte_to_char(0xFF) == U'\u00FF');
  for (int b = 0; b < 256; ++b) CHECK(char_to_byte(byte_to_char(uint8_t(b))) == b);
  CHECK(char_to_byte(U' ') == -1);
}

TEST_CASE("utf8 lossy repair follows from_utf8_lossy", "[tokenizer]") {
  using qf::tok::utf8::lossy;
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(lossy("abc") == "abc");
  CHECK(lossy("\xE6\x97") == fffd);                       // truncated 3-byte sequence: one replacement
  CHECK(lossy("\xE6\x97" "a") == fffd + "a");
  CHECK(lossy("\xFF\xFE") == fffd + fffd);
  CHECK(lossy("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(lossy("\xED\xA0\x80") == fffd + fffd + fffd);       // surrogate: each byte
}

TEST_CASE("split behaviors", "[tokenizer]") {
  using namespace qf::tok;
  const Pattern dash("-", true);
  const std::string s = "a--b-";
  auto run = [&](SplitBehavior b, bool invert = false) {
    std::vector<std::string> v;
    for (const Span& sp : split_spans(dash.find_matches(s), b, invert))
      v.push_back(s.substr(sp.first, sp.second - sp.first));
    return v;
  };
  CHECK(run(SplitBehavior::Removed) == std::vector<std::string>{"a", "b"});
  CHECK(run(SplitBehavior::Isolated) == std::vector<std::string>{"a", "-", "-", "b", "-"});
  CHECK(run(SplitBehavior::MergedWithPrevious) == std::vector<std::string>{"a-", "-", "b-"});
  CHECK(run(SplitBehavior::MergedWithNext) == std::vector<std::string>{"a", "-", "-b", "-"});
  CHECK(run(SplitBehavior::Contiguous) == std::vector<std::string>{"a", "--", "b", "-"});
  CHECK(run(SplitBehavior::Removed, true) == std::vector<std::string>{"-", "-", "-"});
}

TEST_CASE("byte-level BPE: lowest rank merges first", "[tokenizer]") {
  // "the": (h,e) has rank 0 and wins over (t,h) rank 1; then "t"+"he" (rank 2).
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"t", "h"}, {"t", "he"}, {bl(" "), "the"}, {"th", "e"}};
  const Tokenizer t = load(byte_level_tokenizer(merges));
  CHECK(tokens_of(t, t.encode("the", false)) == std::vector<std::string>{"the"});
  CHECK(tokens_of(t, t.encode("the the", false)) == std::vector<std::string>{"the", bl(" the")});
  CHECK(tokens_of(t, t.encode("thx", false)) == std::vector<std::string>{"th", "x"});
  CHECK(tokens_of(t, t.encode("a\nb", false)) == std::vector<std::string>{"a", "\xC4\x8A", "b"});  // 'Ċ'
  // Merges given as [a, b] arrays give the same result.
  const Tokenizer t2 = load(byte_level_tokenizer(merges, true));
  CHECK(t2.encode("the the thx", false) == t.encode("the the thx", false));
  // Special token split out of the text; decode with and without it.
  const auto ids = t.encode("the<|endoftext|>the", true);
  CHECK(tokens_of(t, ids) == std::vector<std::string>{"the", "<|endoftext|>", "the"});
  CHECK(t.decode(ids, false) == "the<|endoftext|>the");
  CHECK(t.decode(ids, true) == "thethe");
  // Non-ASCII: every UTF-8 byte is a symbol, decode restores the text.
  const std::string text = "na\xC3\xAFve caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC 1234  \n\n x";
  CHECK(t.decode(t.encode(text, false), false) == text);
  CHECK(t.vocab_size() == 256 + 4 + 1);
  CHECK(t.token_to_id("<|endoftext|>") == 260);
  CHECK(t.is_special(260));
}

TEST_CASE("byte-level regex splits (GPT-2 pattern)", "[tokenizer]") {
  const Tokenizer t = load(byte_level_tokenizer({}));
  // No merges: one token per byte, but the split still decides nothing visible; check via decode.
  const std::string text = "Hello, world! It's 2024...  \t\n  ok";
  const auto ids = t.encode(text, false);
  CHECK(ids.size() == text.size());
  CHECK(t.decode(ids, false) == text);
}

TEST_CASE("ignore_merges takes whole words from the vocab", "[tokenizer]") {
  json j = byte_level_tokenizer({{"a", "b"}, {"ab", "c"}});
  j["model"]["vocab"]["abcd"] = 1000;  // no merge path to "abcd"
  j["model"]["ignore_merges"] = false;
  CHECK(tokens_of(load(j), load(j).encode("abcd", false)) == std::vector<std::string>{"abc", "d"});
  j["model"]["ignore_merges"] = true;
  const Tokenizer t = load(j);
  CHECK(tokens_of(t, t.encode("abcd", false)) == std::vector<std::string>{"abcd"});
}

TEST_CASE("SentencePiece-style BPE with byte fallback (legacy normalizer form)", "[tokenizer]") {
  const json normalizer = {{"type", "Sequence"},
                           {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", kSp}},
                                                        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSp}}})}};
  const Tokenizer t = load(spm_tokenizer(nullptr, normalizer, {{kSp, "h"}, {"e", "l"}, {kSp + "h", "el"}, {"l", "o"}},
                                         {kSp, "h", "e", "l", "o"}),
                           json{{"bos_token", "<s>"}, {"eos_token", {{"content", "</s>"}}}, {"add_bos_token", true}});
  CHECK(t.bos_id() == 1);
  CHECK(t.eos_id() == 2);
  CHECK(t.add_bos());
  CHECK_FALSE(t.add_eos());
  const auto ids = t.encode("hello \xE6\x97\xA5", true);
  CHECK(tokens_of(t, ids) ==
        std::vector<std::string>{"<s>", kSp + "hel", "lo", kSp, "<0xE6>", "<0x97>", "<0xA5>"});
  CHECK(t.decode(ids, true) == "hello \xE6\x97\xA5");
  CHECK(t.decode(ids, false) == "<s> hello \xE6\x97\xA5");
  // Invalid byte runs decode to one U+FFFD per byte.
  CHECK(t.decode({*t.token_to_id("<0xE6>"), *t.token_to_id("<0x97>")}, false) == "\xEF\xBF\xBD\xEF\xBF\xBD");
  // Characters outside the vocab and without byte tokens fall back to <unk> (fused).
  json j = spm_tokenizer(nullptr, normalizer, {}, {kSp, "a"});
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    j["model"]["vocab"].erase(name);
  }
  j["model"]["vocab"]["a"] = 3;
  const Tokenizer u = load(j);
  CHECK(tokens_of(u, u.encode("a\xE6\x97\xA5\xE6\x9C\xAC" "a", false)) == std::vector<std::string>{kSp, "a", "<unk>", "a"});
}

TEST_CASE("Metaspace prepend_scheme first / always / never", "[tokenizer]") {
  auto make = [&](const char* scheme) {
    const json pre = {{"type", "Metaspace"}, {"replacement", kSp}, {"prepend_scheme", scheme}, {"split", true}};
    json j = spm_tokenizer(pre, nullptr, {{kSp, "a"}, {kSp, "b"}}, {kSp, "a", "b"});
    return load(j);
  };
  const std::string text = "a b</s>b";
  {
    const Tokenizer t = make("first");
    CHECK(tokens_of(t, t.encode(text, false)) == std::vector<std::string>{kSp + "a", kSp + "b", "</s>", "b"});
    CHECK(tokens_of(t, t.encode("</s>a", false)) == std::vector<std::string>{"</s>", "a"});
  }
  {
    const Tokenizer t = make("always");
    CHECK(tokens_of(t, t.encode(text, false)) == std::vector<std::string>{kSp + "a", kSp + "b", "</s>", kSp + "b"});
  }
  {
    const Tokenizer t = make("never");
    CHECK(tokens_of(t, t.encode(text, false)) == std::vector<std::string>{"a", kSp + "b", "</s>", "b"});
  }
}

TEST_CASE("added token flags: lstrip, rstrip, single_word, normalized", "[tokenizer]") {
  json j = byte_level_tokenizer({});
  auto add = [&](int id, const char* content, bool lstrip, bool rstrip, bool single_word, bool special) {
    j["added_tokens"].push_back({{"id", id}, {"content", content}, {"single_word", single_word}, {"lstrip", lstrip},
                                 {"rstrip", rstrip}, {"normalized", !special}, {"special", special}});
  };
  add(300, "<mask>", true, true, false, true);
  add(301, "cat", false, false, true, false);
  const Tokenizer t = load(j);
  CHECK(tokens_of(t, t.encode("a  <mask>  b", false)) == std::vector<std::string>{"a", "<mask>", "b"});
  CHECK(tokens_of(t, t.encode("a cat b", false)) == std::vector<std::string>{"a", bl(" "), "cat", bl(" "), "b"});
  CHECK(tokens_of(t, t.encode("concat", false)).size() == 6);  // not a single word: no match
  CHECK(t.decode(t.encode("x<mask>y", false), true) == "xy");
}

TEST_CASE("Split + ByteLevel(use_regex=false) + Digits + template with BOS", "[tokenizer]") {
  json j = byte_level_tokenizer({});
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         json::array({{{"type", "Split"},
                                       {"pattern", {{"Regex", R"((?i:'s|'t)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
                                       {"behavior", "Isolated"},
                                       {"invert", false}},
                                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
  j["post_processor"] = {{"type", "Sequence"},
                         {"processors",
                          json::array({{{"type", "ByteLevel"}, {"trim_offsets", false}},
                                       {{"type", "TemplateProcessing"},
                                        {"single", json::array({{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                                        {"special_tokens",
                                         {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", {256}}, {"tokens", {"<|endoftext|>"}}}}}}}})}};
  const Tokenizer t = load(j);
  const auto ids = t.encode("It's 12345", true);
  REQUIRE(ids.size() == 11);
  CHECK(ids[0] == 256);
  CHECK(t.bos_id() == 256);
  CHECK(t.decode(ids, true) == "It's 12345");
}

TEST_CASE("the post-processor's ids around the text, applied alone, and the config keys as stated", "[tokenizer]") {
  json j = spm_tokenizer(nullptr, nullptr, {}, {"\xE2\x96\x81", "h", "i"});
  j["post_processor"]["single"].push_back({{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}});
  j["post_processor"]["special_tokens"]["</s>"] = {{"id", "</s>"}, {"ids", {2}}, {"tokens", {"</s>"}}};
  const Tokenizer t = load(j, json{{"bos_token", "<s>"}, {"add_bos_token", false}});
  CHECK(t.special_prefix() == std::vector<int32_t>{1});
  CHECK(t.special_suffix() == std::vector<int32_t>{2});
  auto ids = t.encode("hi", false);
  CHECK(ids.front() != 1);
  t.add_special_tokens(ids);
  CHECK(ids == t.encode("hi", true));
  CHECK(ids.front() == 1);
  CHECK(ids.back() == 2);
  // The config's keys are reported as stated; encoding follows tokenizer.json (as transformers 5).
  CHECK(t.config_add_bos_token() == false);
  CHECK_FALSE(t.config_add_eos_token().has_value());
  // A null bos_token (Qwen2's tokenizer_config.json) means none, not an error.
  j["post_processor"] = {{"type", "ByteLevel"}, {"trim_offsets", false}};
  const Tokenizer q = load(j, json{{"bos_token", nullptr}, {"eos_token", "</s>"}});
  CHECK_FALSE(q.bos_id().has_value());
  CHECK(q.special_prefix().empty());
  CHECK(q.special_suffix().empty());
  auto plain = q.encode("hi", false);
  q.add_special_tokens(plain);
  CHECK(plain == q.encode("hi", false));
}

TEST_CASE("errors name the file and the key", "[tokenizer]") {
  const qf::test::TempDir tmp("tok_test");
  const fs::path& d = tmp.path();
  CHECK_THROWS_WITH(Tokenizer::from_dir(d / "nope"), Catch::Contains("not found") && Catch::Contains("tokenizer.json"));
  write_file(d, "tokenizer.json", "{\"model\": {");
  CHECK_THROWS_AS(Tokenizer::from_dir(d), qf::Error);
  CHECK_THROWS_WITH(Tokenizer::from_dir(d), Catch::Contains("invalid JSON") && Catch::Contains("tokenizer.json"));
  json j = byte_level_tokenizer({});
  j["model"]["type"] = "WordPiece";
  write_file(d, "tokenizer.json", j.dump());
  CHECK_THROWS_WITH(Tokenizer::from_dir(d), Catch::Contains("WordPiece") && Catch::Contains("model.type"));
  j = byte_level_tokenizer({});
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({{{"type", "UnicodeScripts"}}})}};
  write_file(d, "tokenizer.json", j.dump());
  CHECK_THROWS_WITH(Tokenizer::from_dir(d),
                    Catch::Contains("pre_tokenizer.pretokenizers[0].type") && Catch::Contains("UnicodeScripts"));
  j = byte_level_tokenizer({{"a", "b"}});
  j["model"]["merges"].push_back("zz qq");
  write_file(d, "tokenizer.json", j.dump());
  CHECK_THROWS_WITH(Tokenizer::from_dir(d), Catch::Contains("model.merges") && Catch::Contains("zz"));
  j = byte_level_tokenizer({});
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  write_file(d, "tokenizer.json", j.dump());
  CHECK_THROWS_WITH(Tokenizer::from_dir(d), Catch::Contains("pre_tokenizer.pattern"));
  write_file(d, "tokenizer.json", byte_level_tokenizer({}).dump());
  write_file(d, "tokenizer_config.json", "{\"bos_token\": \"<nope>\"}");
  CHECK_THROWS_WITH(Tokenizer::from_dir(d), Catch::Contains("tokenizer_config.json") && Catch::Contains("bos_token"));
}

TEST_CASE("long SentencePiece-style words: cutting at metaspace boundaries changes nothing", "[tokenizer]") {
  // Inputs longer than the cache limit are cut before each "▁" when no merge can join across it. Adding
  // a never-used merge that could join across "▁" disables the cut; ids must be identical both ways.
  const fs::path data = fs::path(QF_TEST_DATA_DIR) / "tokenizers";
  const fs::path golden = qf::test::require_fixture(data / "goldens.json");
  std::string text;
  const json goldens = json::parse(std::ifstream(golden));
  for (const json& s : goldens.at("strings")) {
    for (char ch : s.get<std::string>())
      if (ch != '<' && ch != '\0') text += ch;
    text += "  ";
  }
  text = text + text + "\xE2\x96\x81\xE2\x96\x81x " + text;
  REQUIRE(text.size() > 4096);
  for (const char* name : {"sp-metaspace", "sp-llama2-legacy"}) {
    INFO(name);
    const fs::path path = qf::test::require_fixture(data / name / "tokenizer.json");
    json j = json::parse(std::ifstream(path));
    const Tokenizer cut = load(j);
    j["model"]["vocab"]["<0x00>" + kSp] = 100000;
    j["model"]["merges"].push_back(json::array({"<0x00>", kSp}));
    const Tokenizer whole = load(j);
    const auto a = cut.encode(text, true), b = whole.encode(text, true);
    CHECK(a.size() > 1000);
    CHECK(a == b);
    CHECK(cut.decode(a, true) == whole.decode(b, true));
  }
}

TEST_CASE("NFC normalizer (ICU) and normalized added tokens", "[tokenizer]") {
  json j = byte_level_tokenizer({});
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}})}};
  j["added_tokens"].push_back({{"id", 400}, {"content", "caf\x65\xCC\x81"}, {"single_word", false}, {"lstrip", false},
                               {"rstrip", false}, {"normalized", true}, {"special", false}});
  const Tokenizer t = load(j);
  CHECK(t.encode("e\xCC\x81", false) == t.encode("\xC3\xA9", false));
  CHECK(t.encode("\xC3\xA9", false).size() == 2);
  // The normalized added token matches the NFC form of the text.
  // Byte-level ids here equal the byte values ('a' = 97, ' ' = 32).
  CHECK(t.encode("a caf\xC3\xA9", false) == std::vector<int32_t>{'a', ' ', 400});
}
