#pragma once
// Temp folders (the shared TempDir) and file writers (plain, zstd, gzip) for the calibration tests.
#include <zlib.h>
#include <zstd.h>

#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qf_calib_test {
namespace fs = std::filesystem;

using qf::test::TempDir;  // tests/support/temp_dir.hpp

// Restores an environment variable (set or unset) when the test ends.
struct EnvGuard {
  std::string name;
  bool had = false;
  std::string value;
  explicit EnvGuard(std::string n) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) {
      had = true;
      value = v;
    }
  }
  ~EnvGuard() {
    if (had) {
      ::setenv(name.c_str(), value.c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
};

inline fs::path write_file(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << bytes;
  return file;
}

inline fs::path write_zstd(const fs::path& file, const std::string& bytes, int level = 3) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
  if (ZSTD_isError(n)) throw std::runtime_error("ZSTD_compress failed");
  out.resize(n);
  return write_file(file, out);
}

inline fs::path write_gzip(const fs::path& file, const std::string& bytes) {
  fs::create_directories(file.parent_path());
  gzFile gz = gzopen(file.c_str(), "wb");
  if (!gz) throw std::runtime_error("gzopen failed");
  if (!bytes.empty() && gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0) {
    gzclose(gz);
    throw std::runtime_error("gzwrite failed");
  }
  gzclose(gz);
  return file;
}

inline std::string tiny_llama_dir() { return std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama"; }

}  // namespace qf_calib_test
