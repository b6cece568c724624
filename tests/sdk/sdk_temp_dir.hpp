#pragma once
// The SDK tests' scratch folder: the shared unique one (support/temp_dir.hpp), plus the two
// questions these tests ask of it: a file's path as text, and how many entries are left.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_dir.hpp"

namespace sdk_test {

class TempDir : public qf::test::TempDir {
 public:
  TempDir() : qf::test::TempDir("sdk") {}
  std::string operator/(const std::string& name) const { return (path() / name).string(); }
  std::size_t count() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path()), {}));
  }
};

inline std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace sdk_test
