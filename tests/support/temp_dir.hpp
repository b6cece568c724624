#pragma once
// The one scratch-folder helper of the tests. A TempDir is a fresh folder made with mkdtemp under the
// system temp dir ($TMPDIR, else /tmp), named qf_<tag>_XXXXXX, so tests running in parallel (ctest -j)
// and several users on one machine never share a folder. It is removed with everything in it when the
// TempDir goes out of scope, also when the test fails; set QF_KEEP_TEST_DIRS=1 to keep it for a look
// (its path is printed then).
#include <stdlib.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace qf::test {

// True when QF_KEEP_TEST_DIRS is set to anything but "" or "0".
inline bool keep_test_dirs() {
  const char* v = std::getenv("QF_KEEP_TEST_DIRS");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") : path_(make(tag)) {}
  ~TempDir() { release(); }
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept {
    if (this != &other) {
      release();
      path_ = std::exchange(other.path_, {});
    }
    return *this;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

  // Writes `bytes` to `name` inside the folder (creating sub-folders) and returns the file's path.
  std::filesystem::path write(const std::filesystem::path& name, const std::string& bytes) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
  }

  // How many entries the folder holds (not recursive).
  std::size_t count() const {
    return static_cast<std::size_t>(
        std::distance(std::filesystem::directory_iterator(path_), std::filesystem::directory_iterator()));
  }

 private:
  static std::filesystem::path make(const std::string& tag) {
    std::string safe;
    for (char c : tag) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    std::string pattern = (std::filesystem::temp_directory_path() / ("qf_" + safe + "_XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp(" + pattern + ") failed: " + std::strerror(errno));
    return pattern;
  }
  void release() noexcept {
    if (path_.empty()) return;
    if (keep_test_dirs()) {
      std::cerr << "QF_KEEP_TEST_DIRS: kept " << path_.string() << "\n";
      return;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::remove_all(path_, ec) != static_cast<std::uintmax_t>(-1) && !ec) return;
    // A test may have left a read-only folder inside: make everything writable, then try again.
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }

  std::filesystem::path path_;
};

}  // namespace qf::test
