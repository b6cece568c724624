// Protocols (GPTQ windows, wikitext rows, optimum text, AutoAWQ documents, C4 draws) and
// load_calibration on files made here, tokenized with the bundled tiny-llama tokenizer
// (byte-level BPE whose post-processor prepends <s> = 1).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "calib/calibration.hpp"
#include "calib/data_dirs.hpp"
#include "calib/numpy_random.hpp"
#include "calib/protocols.hpp"
#include "calib/python_random.hpp"
#include "calib/text_input.hpp"
#include "common/error.hpp"
#include "scratch.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace qf::calib;
using qf_calib_test::TempDir;
namespace fs = std::filesystem;

namespace {

const qf::tok::Tokenizer& tiny() {
  static const qf::tok::Tokenizer tok = qf::tok::Tokenizer::from_dir(qf_calib_test::tiny_llama_dir());
  return tok;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Some prose with blank lines, like a wikitext file.
std::string wiki_like(int sections) {
  std::string s;
  for (int i = 0; i < sections; ++i) {
    s += " \n = Section " + std::to_string(i) + " = \n \n";
    s += " It was the best of times , it was the worst of times , section " + std::to_string(i) +
         " of the test text @-@ with numbers 1 @,@ 234 . \n";
  }
  return s;
}

std::string json_line(const std::string& field, const std::string& text) {
  return nlohmann::json{{field, text}, {"meta", {{"pile_set_name", "test"}}}}.dump() + "\n";
}

CalibrationSpec spec_for(const std::string& dataset, int64_t n, int64_t seqlen) {
  CalibrationSpec s;
  s.dataset = dataset;
  s.num_samples = n;
  s.seqlen = seqlen;
  return s;
}

}  // namespace

TEST_CASE("GPTQ windows: offsets from random.randint, never past the end", "[calib][protocol]") {
  std::vector<int32_t> ids(105);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  std::vector<int64_t> offsets;
  const auto blocks = sample_windows(ids, 400, 100, 0, "test", &offsets);
  REQUIRE(blocks.size() == 400);
  PythonRandom r(0);
  std::set<int64_t> seen;
  for (size_t s = 0; s < blocks.size(); ++s) {
    CHECK(offsets[s] == r.randint(0, 105 - 100 - 1));
    REQUIRE(blocks[s].size() == 100);
    CHECK(blocks[s].front() == offsets[s]);
    CHECK(blocks[s].back() == offsets[s] + 99);
    seen.insert(offsets[s]);
  }
  // Offsets cover [0, T - seqlen - 1]: the last token of the stream is never used.
  CHECK(seen == std::set<int64_t>{0, 1, 2, 3, 4});
  // Exactly seqlen + 1 tokens: the only window is at 0.
  CHECK(sample_windows(std::vector<int32_t>(ids.begin(), ids.begin() + 101), 3, 100, 5, "t")[2].front() == 0);
  const std::string e = error_of([&] { sample_windows(std::vector<int32_t>(100, 7), 1, 100, 0, "my text"); });
  CHECK(contains(e, "my text has 100 tokens"));
  CHECK(contains(e, "at least 101"));
}

TEST_CASE("wikitext rows: the raw file's lines with newline, blank lines empty", "[calib][protocol]") {
  const std::string raw = " \n = Title = \n \n Text a .\n\t \n Last";
  const auto rows = wikitext_rows(raw);
  CHECK(rows == std::vector<std::string>{"", " = Title = \n", "", " Text a .\n", "", " Last"});
  CHECK(wikitext_rows(" \r\n = T = \r\n") == std::vector<std::string>{"", " = T = \n"});
  CHECK(join_rows(rows, "\n\n") == "\n\n = Title = \n\n\n\n\n Text a .\n\n\n\n\n Last");
  CHECK(optimum_wikitext_text(rows) == " \n = Title = \n \n Text a .\n \n Last");
  std::vector<std::string> many(1500, "x\n");
  CHECK(optimum_wikitext_text(many).size() == 2000);  // first 1000 rows only
}

TEST_CASE("wikitext2 is the train split only; wikitext2-valid the validation split with the same protocols",
          "[calib][dataset]") {
  TempDir t;
  const qf_calib_test::EnvGuard env_guard("QUANTFORGE_DATA_DIR");
  ::unsetenv("QUANTFORGE_DATA_DIR");
  const std::string valid = wiki_like(60);
  qf_calib_test::write_file(t.path() / "wikitext-2-raw" / "wiki.valid.raw", valid);
  CalibrationSpec spec = spec_for("wikitext2", 8, 64);
  spec.dataset_path = t.path().string();
  spec.seed = 3;

  // Only a validation split: "wikitext2" is not found, as a DatasetNotFound that says what was
  // wanted and where, and names the dataset that is there.
  try {
    load_calibration(spec, tiny());
    FAIL("wikitext2 without wiki.train.raw must not load");
  } catch (const DatasetNotFound& e) {
    CHECK(e.dataset() == "wikitext2");
    CHECK(e.file_names() == std::vector<std::string>{"wiki.train.raw", "wikitext-2-raw/wiki.train.raw"});
    REQUIRE_FALSE(e.dirs().empty());
    CHECK(e.dirs().front() == t.path());
    CHECK(contains(e.what(), "calibration dataset \"wikitext2\" not found"));
    CHECK(contains(e.what(), "is --dataset wikitext2-valid"));
  }

  spec.dataset = "wikitext2-valid";
  const auto set = load_calibration(spec, tiny());
  CHECK(set.source == t.path() / "wikitext-2-raw" / "wiki.valid.raw");
  CHECK(set.protocol == "gptq");
  CHECK(contains(set.description, "wikitext2 (GPTQ paper protocol)"));
  CHECK(contains(set.description, "validation split; the reference calibrates on the train split"));
  CHECK(contains(set.description, "8 x 64 tokens, seed 3"));
  const auto ids = tiny().encode(join_rows(wikitext_rows(valid), "\n\n"), true);
  CHECK(ids.front() == 1);
  CHECK(set.blocks == sample_windows(ids, 8, 64, 3, "x"));

  spec.protocol = "optimum";
  const auto opt = load_calibration(spec, tiny());
  CHECK(opt.protocol == "optimum");
  CHECK(contains(opt.description, "optimum protocol"));
  CHECK(opt.blocks == sample_windows(tiny().encode(optimum_wikitext_text(wikitext_rows(valid)), true), 8, 64, 3, "x"));

  // With a train split in the folder, "wikitext2" uses it (and "wikitext2-valid" still the validation split).
  const std::string train = wiki_like(80);
  qf_calib_test::write_file(t.path() / "wiki.train.raw", train);
  spec.protocol = "auto";
  CHECK(load_calibration(spec, tiny()).source == t.path() / "wikitext-2-raw" / "wiki.valid.raw");
  spec.dataset = "wikitext2";
  const auto tr = load_calibration(spec, tiny());
  CHECK(tr.source == t.path() / "wiki.train.raw");
  CHECK(contains(tr.description, "train split, as the reference"));
  CHECK(tr.blocks == sample_windows(tiny().encode(join_rows(wikitext_rows(train), "\n\n"), true), 8, 64, 3, "x"));

  spec.protocol = "awq";
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }), "does not apply to wikitext2"));
}

TEST_CASE("bundled WikiText-2 validation split: found in the data folder and sampled as wikitext2",
          "[calib][dataset]") {
  const fs::path bundled = fs::path(QF_SOURCE_DIR) / "data" / "wikitext-2-raw" / "wiki.valid.raw";
  REQUIRE(fs::file_size(bundled) == 1146846);  // the official file, unmodified (data/wikitext-2-raw/README.md)
  TempDir empty;
  const qf_calib_test::EnvGuard env_guard("QUANTFORGE_DATA_DIR");
  ::setenv("QUANTFORGE_DATA_DIR", empty.path().c_str(), 1);
  CalibrationSpec spec = spec_for("wikitext2-valid", 4, 2048);
  spec.extra_search_dirs = {fs::path(QF_SOURCE_DIR) / "data"};
  const auto set = load_calibration(spec, tiny());
  CHECK(set.source == bundled);
  CHECK(set.protocol == "gptq");
  CHECK(contains(set.description, "validation split"));
  const auto ids = tiny().encode(join_rows(wikitext_rows(read_all(bundled)), "\n\n"), true);
  CHECK(set.blocks == sample_windows(ids, 4, 2048, 0, "x"));
  CHECK(contains(set.description, std::to_string(ids.size()) + " tokens"));
  // The bundled data never answers for the train split.
  spec.dataset = "wikitext2";
  CHECK_THROWS_AS(load_calibration(spec, tiny()), DatasetNotFound);
}

TEST_CASE("named dataset not found: error lists every place looked", "[calib][dataset]") {
  TempDir t;
  const qf_calib_test::EnvGuard env_guard("QUANTFORGE_DATA_DIR");
  ::setenv("QUANTFORGE_DATA_DIR", (t.path() / "env").c_str(), 1);
  CalibrationSpec spec = spec_for("wikitext2", 1, 16);
  spec.dataset_path = (t.path() / "explicit").string();
  spec.extra_search_dirs = {t.path() / "bundled"};
  const std::string e = error_of([&] { load_calibration(spec, tiny()); });
  CHECK(contains(e, "calibration dataset \"wikitext2\" not found"));
  for (const char* dir : {"explicit", "env", "bundled"}) {
    CHECK(contains(e, (t.path() / dir / "wiki.train.raw").string()));
    CHECK(contains(e, (t.path() / dir / "wikitext-2-raw" / "wiki.train.raw").string()));
  }
  CHECK(contains(e, "share/quantforge/data/wiki.train.raw"));
  CHECK_FALSE(contains(e, "wiki.valid.raw"));
  spec.dataset = "wikitext2-valid";
  const std::string ev = error_of([&] { load_calibration(spec, tiny()); });
  CHECK(contains(ev, "calibration dataset \"wikitext2-valid\" not found"));
  CHECK(contains(ev, (t.path() / "bundled" / "wikitext-2-raw" / "wiki.valid.raw").string()));
  spec.dataset = "pileval";
  const std::string ep = error_of([&] { load_calibration(spec, tiny()); });
  CHECK(contains(ep, (t.path() / "env" / "val.jsonl.zst").string()));
  CHECK(contains(ep, (t.path() / "bundled" / "pile-val-backup" / "pile-val*.jsonl").string()));
  spec.dataset = "c4";
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }),
                 (t.path() / "explicit" / "c4-train.00000-of-01024.json.gz").string()));
  spec.dataset = "bundled";
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }),
                 (t.path() / "bundled" / "calibration" / "public-domain.txt").string()));
  CHECK_THROWS_AS(load_calibration(spec, tiny()), DatasetNotFound);
  ::unsetenv("QUANTFORGE_DATA_DIR");

  // Not a "not found": a plain qf::Error, which no fallback may swallow.
  spec.dataset = "wikitext103";
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }), "neither a known name"));
  try {
    load_calibration(spec, tiny());
  } catch (const DatasetNotFound&) {
    FAIL("an unknown dataset name is not a DatasetNotFound");
  } catch (const qf::Error&) {
  }
  spec.dataset = (t.path() / "nope.txt").string();
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }), "calibration file not found"));
  CHECK_THROWS_AS(load_calibration(spec, tiny()), DatasetNotFound);
}

TEST_CASE("plain .txt: whole text, GPTQ windows; too short is a clear error", "[calib][dataset]") {
  TempDir t;
  const std::string text = wiki_like(30);
  const auto p = qf_calib_test::write_file(t.path() / "mine.txt", text);
  const auto set = load_calibration(spec_for(p.string(), 5, 32), tiny());
  CHECK(set.blocks == sample_windows(tiny().encode(text, true), 5, 32, 0, "x"));
  CHECK(contains(set.description, "text file"));
  const auto n = tiny().encode(text, true).size();
  const std::string e = error_of([&] { load_calibration(spec_for(p.string(), 5, 2048), tiny()); });
  CHECK(contains(e, "has " + std::to_string(n) + " tokens"));
  CHECK(contains(e, "mine.txt"));
  CalibrationSpec bad = spec_for(p.string(), 5, 32);
  bad.protocol = "optimum";
  CHECK_THROWS_AS(load_calibration(bad, tiny()), qf::Error);
  CHECK_THROWS_AS(load_calibration(spec_for(p.string(), 0, 32), tiny()), qf::Error);
}

TEST_CASE("JSON lines with a field: .jsonl, .jsonl.zst and .json.gz agree", "[calib][dataset]") {
  TempDir t;
  std::string content;
  std::vector<std::string> rows;
  for (int i = 0; i < 40; ++i) {
    rows.push_back("Record " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog.");
    content += json_line("body", rows.back());
  }
  const auto plain = qf_calib_test::write_file(t.path() / "d.jsonl", content);
  const auto zst = qf_calib_test::write_zstd(t.path() / "d.jsonl.zst", content);
  const auto gz = qf_calib_test::write_gzip(t.path() / "d.json.gz", content);
  CalibrationSpec spec = spec_for(plain.string(), 6, 48);
  spec.text_field = "body";
  const auto a = load_calibration(spec, tiny());
  CHECK(a.blocks == sample_windows(tiny().encode(join_rows(rows, "\n\n"), true), 6, 48, 0, "x"));
  spec.dataset = zst.string();
  CHECK(load_calibration(spec, tiny()).blocks == a.blocks);
  spec.dataset = gz.string();
  CHECK(load_calibration(spec, tiny()).blocks == a.blocks);
  spec.text_field = "text";
  CHECK(contains(error_of([&] { load_calibration(spec, tiny()); }), "no field \"text\""));
}

TEST_CASE("pileval (AutoAWQ protocol): shuffle, strip, BOS counted, skip > seqlen, concat, split",
          "[calib][dataset][awq]") {
  const auto& tok = tiny();
  // Documents of varied length; seqlen is chosen so one document is exactly seqlen tokens with BOS.
  std::vector<std::string> docs;
  for (int i = 0; i < 60; ++i) {
    std::string d = "  Document " + std::to_string(i) + ".";
    for (int w = 0; w < (i == 7 ? 6 : (i * 7) % 9); ++w) d += " Emma walked to Randalls with her father";
    docs.push_back(d + " \n");
  }
  docs[5] = " \t ";  // strips to "": encodes to [BOS], one token, and is kept (AutoAWQ only skips 0 tokens)
  auto len = [&](const std::string& d) { return static_cast<int64_t>(tok.encode(py_strip(d), true).size()); };
  const int64_t seqlen = len(docs[7]);
  REQUIRE(seqlen > 20);
  // Make docs[8] exactly seqlen + 1 tokens with BOS (seqlen without it): skipped.
  for (const char* extra : {" and", " a", "!", "?", " the", " x"}) {
    docs[8] = std::string(py_strip(docs[7])) + extra;
    if (len(docs[8]) == seqlen + 1) break;
  }
  REQUIRE(len(docs[8]) == seqlen + 1);
  std::string content;
  for (const auto& d : docs) content += json_line("text", d);
  TempDir t;
  qf_calib_test::write_zstd(t.path() / "pile-val-backup" / "val.jsonl.zst", content);
  qf_calib_test::write_file(t.path() / "other" / "val.jsonl", "{\"text\": \"not me\"}\n");

  CalibrationSpec spec = spec_for("pileval", 20, seqlen);
  spec.seed = 42;  // AutoAWQ's shuffle seed, as the awq recipe sets it
  spec.extra_search_dirs = {t.path(), t.path() / "other"};  // folder order: t.path() first (pile-val-backup/ subfolder)
  const auto set = load_calibration(spec, tok);
  CHECK(set.source == t.path() / "pile-val-backup" / "val.jsonl.zst");
  CHECK(set.protocol == "awq");

  // Expected, following AutoAWQ's get_calib_dataset step by step (docs/awq.md#calibration).
  const auto perm = numpy_permutation(42, static_cast<int64_t>(docs.size()));
  std::vector<int32_t> cat;
  int64_t used = 0, too_long = 0;
  bool saw_exact = false, saw_bos_only = false;
  for (int64_t i = 0; i < static_cast<int64_t>(docs.size()) && used < 20; ++i) {
    const auto ids = tok.encode(py_strip(docs[static_cast<size_t>(perm[static_cast<size_t>(i)])]), true);
    if (static_cast<int64_t>(ids.size()) > seqlen) {
      ++too_long;
      continue;
    }
    REQUIRE(ids.front() == 1);  // BOS
    saw_exact |= static_cast<int64_t>(ids.size()) == seqlen;
    saw_bos_only |= ids.size() == 1;
    cat.insert(cat.end(), ids.begin(), ids.end());
    ++used;
  }
  REQUIRE(used == 20);
  REQUIRE(too_long > 0);
  std::vector<std::vector<int32_t>> expected;
  for (size_t b = 0; b + static_cast<size_t>(seqlen) <= cat.size(); b += static_cast<size_t>(seqlen)) {
    expected.emplace_back(cat.begin() + static_cast<long>(b), cat.begin() + static_cast<long>(b) + seqlen);
  }
  CHECK(set.blocks == expected);
  CHECK(set.blocks.size() == cat.size() / static_cast<size_t>(seqlen));
  CHECK(contains(set.description, "pileval (AutoAWQ protocol)"));
  CHECK(contains(set.description, "default_rng(42)"));
  CHECK(contains(set.description, std::to_string(too_long) + " longer skipped"));
  CHECK(saw_exact);     // a document of exactly seqlen tokens (BOS included) is kept
  CHECK(saw_bos_only);  // the whitespace-only document (just BOS) is kept
  // The BOS-counted boundary, independent of shuffle order: seqlen tokens kept, seqlen + 1 skipped.
  {
    AwqStats st;
    std::vector<std::string> two{docs[7], docs[8], docs[5]};
    const auto blocks = awq_documents(
        [&](int64_t i, std::string& out) {
          if (i >= 3) return false;
          out = two[static_cast<size_t>(i)];
          return true;
        },
        tok, 10, seqlen, st);
    CHECK(st.docs_used == 2);
    CHECK(st.docs_too_long == 1);
    CHECK(st.total_tokens == seqlen + 1);
    REQUIRE(blocks.size() == 1);
    CHECK(blocks[0] == tok.encode(py_strip(docs[7]), true));
  }
  // Plain .jsonl path with protocol awq: same order and blocks.
  CalibrationSpec plain = spec_for((t.path() / "plain.jsonl").string(), 20, seqlen);
  qf_calib_test::write_file(plain.dataset, content);
  plain.protocol = "awq";
  plain.seed = 42;
  CHECK(load_calibration(plain, tok).blocks == set.blocks);
  // --seed moves the shuffle.
  spec.seed = 1;
  CHECK(load_calibration(spec, tok).blocks != set.blocks);
}

TEST_CASE("c4 (IST/optimum protocol) from json.gz: documents >= seqlen, one window each", "[calib][dataset]") {
  const auto& tok = tiny();
  std::vector<std::string> docs;
  for (int i = 0; i < 50; ++i) {
    std::string d = "Web page " + std::to_string(i) + ".";
    for (int w = 0; w < (i % 5 == 0 ? 30 : 2); ++w) d += " Buy the best lobster traps in Atlantic waters today.";
    docs.push_back(d);
  }
  std::string content;
  for (const auto& d : docs) content += json_line("text", d);
  TempDir t;
  qf_calib_test::write_gzip(t.path() / "c4" / "c4-train.00000-of-01024.json.gz", content);
  CalibrationSpec spec = spec_for("c4", 6, 100);
  spec.dataset_path = t.path().string();
  spec.seed = 0;
  const auto set = load_calibration(spec, tok);
  CHECK(set.protocol == "c4");
  // Replay with the Python RNG.
  PythonRandom r(0);
  std::vector<std::vector<int32_t>> expected;
  for (int s = 0; s < 6; ++s) {
    std::vector<int32_t> ids;
    do {
      ids = tok.encode(docs[static_cast<size_t>(r.randint(0, 49))], true);
    } while (ids.size() < 100);
    const int64_t i = r.randint(0, static_cast<int64_t>(ids.size()) - 100 - 1);
    expected.emplace_back(ids.begin() + i, ids.begin() + i + 100);
  }
  CHECK(set.blocks == expected);
  CHECK(contains(set.description, "C4 protocol"));
  // No document long enough: a clear error, not an endless loop.
  spec.seqlen = 100000;
  CHECK(contains(error_of([&] { load_calibration(spec, tok); }), "none of the 50 documents has 100000 tokens"));
}

TEST_CASE("bundled public-domain text: found in the data folder, named as such, deterministic", "[calib][dataset]") {
  CalibrationSpec spec = spec_for("bundled", 16, 512);
  spec.extra_search_dirs = {fs::path(QF_SOURCE_DIR) / "data"};
  const auto a = load_calibration(spec, tiny());
  CHECK(a.source == fs::path(QF_SOURCE_DIR) / "data" / "calibration" / "public-domain.txt");
  CHECK(contains(a.description, "bundled public-domain text"));
  REQUIRE(a.blocks.size() == 16);
  for (const auto& b : a.blocks) CHECK(b.size() == 512);
  const auto b = load_calibration(spec, tiny());
  CHECK(a.blocks == b.blocks);
  CHECK(a.description == b.description);
  spec.seed = 1;
  CHECK(load_calibration(spec, tiny()).blocks != a.blocks);
  // The bundled text is separate from heldout.txt (token count in data/README.md).
  CHECK(tiny().encode(read_all(a.source), false).size() == 86108);  // data/README.md
}

TEST_CASE("AutoAWQ protocol on a large file: records are read in shuffled order across passes",
          "[calib][dataset][awq]") {
  const auto& tok = tiny();
  // 3000 records, only every 60th short enough: ~1200 records must be read (more than the first
  // 1024-record pass holds).
  std::vector<std::string> docs;
  std::string content;
  for (int i = 0; i < 3000; ++i) {
    docs.push_back(i % 60 == 0 ? "Short " + std::to_string(i)
                               : "A long record number " + std::to_string(i) + " that is much too long to keep.");
    content += json_line("text", docs.back());
  }
  TempDir t;
  const auto p = qf_calib_test::write_gzip(t.path() / "big.jsonl.gz", content);
  CalibrationSpec spec = spec_for(p.string(), 20, 6);
  spec.protocol = "awq";
  spec.seed = 42;  // AutoAWQ's shuffle seed, as the awq recipe sets it
  const auto set = load_calibration(spec, tok);
  const auto perm = numpy_permutation(42, 3000);
  std::vector<int32_t> cat;
  int64_t used = 0;
  size_t read = 0;
  for (; read < perm.size() && used < 20; ++read) {
    const auto ids = tok.encode(docs[static_cast<size_t>(perm[read])], true);
    if (ids.size() > 6) continue;
    cat.insert(cat.end(), ids.begin(), ids.end());
    ++used;
  }
  CHECK(read > 1024);
  REQUIRE(used == 20);
  REQUIRE(set.blocks.size() == cat.size() / 6);
  for (size_t b = 0; b < set.blocks.size(); ++b) {
    CHECK(set.blocks[b] == std::vector<int32_t>(cat.begin() + static_cast<long>(6 * b),
                                                cat.begin() + static_cast<long>(6 * b + 6)));
  }
}
