// File readers (plain / zstd / gzip, written here with the libraries), JSON records, Python
// str.strip, universal newlines, and the data search folders.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "calib/data_dirs.hpp"
#include "calib/text_input.hpp"
#include "common/error.hpp"
#include "scratch.hpp"

using namespace qf::calib;
using qf_calib_test::TempDir;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  for_each_line(p, [&](std::string_view l) {
    out.emplace_back(l);
    return true;
  });
  return out;
}

// A big, varied payload so the streaming decoders cross several buffer refills.
std::string big_jsonl(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "{\"text\": \"doc " + std::to_string(i) + " " + std::string(static_cast<size_t>(i % 97), 'x') +
         "\", \"meta\": {\"i\": " + std::to_string(i) + "}}\n";
  }
  return s;
}
}  // namespace

TEST_CASE("readers: plain, zstd and gzip give the same lines", "[calib][io]") {
  TempDir t;
  const std::string payload = big_jsonl(30000);  // ~2.6 MB
  const auto plain = qf_calib_test::write_file(t.path() / "a.jsonl", payload);
  const auto zst = qf_calib_test::write_zstd(t.path() / "a.jsonl.zst", payload);
  const auto gz = qf_calib_test::write_gzip(t.path() / "a.json.gz", payload);
  CHECK(read_all(plain) == payload);
  CHECK(read_all(zst) == payload);
  CHECK(read_all(gz) == payload);
  const auto lines = lines_of(zst);
  REQUIRE(lines.size() == 30000);
  CHECK(lines == lines_of(gz));
  CHECK(count_records(zst) == 30000);
  // Early stop.
  int seen = 0;
  for_each_line(gz, [&](std::string_view) { return ++seen < 5; });
  CHECK(seen == 5);
  // Records.
  std::string text;
  for_each_record_line(zst, [&](int64_t i, std::string_view line) {
    if (i == 1234) text = record_text(line, "text", zst, i);
    return i < 1234;
  });
  CHECK(text == "doc 1234 " + std::string(1234 % 97, 'x'));
}

TEST_CASE("readers: concatenated zstd frames, truncated files, last line without newline", "[calib][io]") {
  TempDir t;
  const auto a = qf_calib_test::write_zstd(t.path() / "a.zst", "one\ntwo\n");
  const auto b = qf_calib_test::write_zstd(t.path() / "b.zst", "three");
  const fs::path both = t.path() / "both.jsonl.zst";
  {
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::string ca((std::istreambuf_iterator<char>(fa)), {}), cb((std::istreambuf_iterator<char>(fb)), {});
    qf_calib_test::write_file(both, ca + cb);
    qf_calib_test::write_file(t.path() / "cut.zst", ca.substr(0, ca.size() - 3));
  }
  CHECK(lines_of(both) == std::vector<std::string>{"one", "two", "three"});
  CHECK_THROWS_AS(read_all(t.path() / "cut.zst"), qf::Error);
  // Truncated gzip.
  const auto gz = qf_calib_test::write_gzip(t.path() / "x.gz", big_jsonl(2000));
  {
    std::ifstream f(gz, std::ios::binary);
    std::string c((std::istreambuf_iterator<char>(f)), {});
    qf_calib_test::write_file(t.path() / "cut.gz", c.substr(0, c.size() / 2));
  }
  CHECK_THROWS_AS(read_all(t.path() / "cut.gz"), qf::Error);
  CHECK_THROWS_AS(read_all(t.path() / "missing.txt"), qf::Error);
}

TEST_CASE("records: blank lines are not records; errors name file, record and field", "[calib][io]") {
  TempDir t;
  const auto p = qf_calib_test::write_file(t.path() / "r.jsonl", "{\"text\": \"a\"}\n\n  \n{\"body\": \"b\"}\n[1]\n");
  CHECK(count_records(p) == 3);
  std::vector<std::string> lines;
  for_each_record_line(p, [&](int64_t, std::string_view l) {
    lines.emplace_back(l);
    return true;
  });
  CHECK(record_text(lines[0], "text", p, 0) == "a");
  CHECK(record_text(lines[1], "body", p, 1) == "b");
  try {
    record_text(lines[1], "text", p, 1);
    FAIL("expected an error");
  } catch (const qf::Error& e) {
    const std::string m = e.what();
    CHECK(m.find("r.jsonl record 1") != std::string::npos);
    CHECK(m.find("\"text\"") != std::string::npos);
  }
  CHECK_THROWS_AS(record_text(lines[2], "text", p, 2), qf::Error);
  CHECK_THROWS_AS(record_text("{not json", "text", p, 3), qf::Error);
  CHECK_THROWS_AS(record_text("{\"text\": 5}", "text", p, 4), qf::Error);
}

TEST_CASE("python str.strip and universal newlines", "[calib][io]") {
  CHECK(py_strip("  a b \t\n") == "a b");
  CHECK(py_strip("\xc2\xa0\xe3\x80\x80x\xe2\x80\x83\xc2\x85") == "x");  // NBSP, U+3000, U+2003, U+0085
  CHECK(py_strip("\x1c\x1fy\x0b\x0c") == "y");
  CHECK(py_strip("\xe2\x80\x8bz") == "\xe2\x80\x8bz");  // U+200B is not whitespace in Python
  CHECK(py_strip(" \xff ") == "\xff");
  CHECK(py_strip(" \n ").empty());
  CHECK(py_strip("").empty());
  CHECK(universal_newlines("a\r\nb\rc\n") == "a\nb\nc\n");
  CHECK(universal_newlines("a\r") == "a\n");
}

TEST_CASE("data search folders: explicit, environment, exe prefix, extra; in that order", "[calib][dirs]") {
  const qf_calib_test::EnvGuard env_guard("QUANTFORGE_DATA_DIR");
  ::setenv("QUANTFORGE_DATA_DIR", "/env/one:/env/two", 1);
  const auto dirs = data_search_dirs("/explicit", {"/bundled"});
  ::unsetenv("QUANTFORGE_DATA_DIR");
  REQUIRE(dirs.size() == 5);
  CHECK(dirs[0] == fs::path("/explicit"));
  CHECK(dirs[1] == fs::path("/env/one"));
  CHECK(dirs[2] == fs::path("/env/two"));
  CHECK(dirs[3].filename() == "data");
  CHECK(dirs[3].parent_path().filename() == "quantforge");
  CHECK(dirs[4] == fs::path("/bundled"));
  const auto none = data_search_dirs("", {});
  CHECK(none.size() == 1);  // only the exe prefix

  TempDir t;
  qf_calib_test::write_file(t.path() / "b" / "pile" / "pile-val-00.jsonl.zst", "x");
  qf_calib_test::write_file(t.path() / "b" / "val.jsonl", "x");
  std::vector<fs::path> looked;
  // Folder-major: the first folder wins; within a folder, patterns in order.
  const auto found = find_glob_in_dirs({t.path() / "a", t.path() / "b"}, {"val.jsonl.zst", "pile/pile-val*.jsonl.zst",
                                                                        "val.jsonl"},
                                       looked);
  CHECK(found == t.path() / "b" / "pile" / "pile-val-00.jsonl.zst");
  CHECK(looked.size() == 5);
  looked.clear();
  CHECK(find_in_dirs({t.path() / "a"}, {"val.jsonl"}, looked).empty());
  CHECK(looked == std::vector<fs::path>{t.path() / "a" / "val.jsonl"});
}
