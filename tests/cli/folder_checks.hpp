#pragma once
// Folder checks the end-to-end CLI tests share: a private copy of a fixture model, every file of a
// folder with its bytes, "same output", and leftovers of a run.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "support/temp_dir.hpp"

namespace qf::test {

namespace fs = std::filesystem;

inline std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every entry of a folder (hidden ones too) with its bytes; sub-folders as "<dir>".
inline std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out[e.path().filename().string()] = e.is_directory() ? "<dir>" : read(e.path());
  return out;
}

inline fs::path copy_model(const TempDir& t, const std::string& name = "m") {
  const fs::path m = t.path() / name;
  fs::create_directories(m.parent_path());
  fs::copy(fs::path(QF_TEST_DATA_DIR) / "models" / "tiny-llama", m, fs::copy_options::recursive);
  return m;
}

// The output folders hold the same files with the same bytes, apart from the run's log.
inline void check_same_output(const fs::path& a, const fs::path& b) {
  auto sa = snapshot(a), sb = snapshot(b);
  sa.erase("quantize.log");
  sb.erase("quantize.log");
  REQUIRE(sa.size() == sb.size());
  for (const auto& [name, bytes] : sa) {
    INFO(name);
    REQUIRE(sb.count(name));
    const bool same_bytes = bytes == sb.at(name);  // a bool: Catch would print both files
    CHECK(same_bytes);
  }
}

inline bool has_hidden_leftovers(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(".quantforge-", 0) == 0 &&
        e.path().filename().string().rfind(".quantforge-manifest", 0) != 0)
      return true;
  return false;
}

}  // namespace qf::test
