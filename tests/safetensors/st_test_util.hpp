#pragma once
// Helpers shared by the safetensors tests: the scratch directory and raw-bytes file builders.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "support/temp_dir.hpp"

namespace qf::st::test {
namespace fs = std::filesystem;

// Matches a qf::Error whose message contains both pieces (typically the file and the tensor).
class MessageHas : public Catch::MatcherBase<qf::Error> {
 public:
  MessageHas(std::string a, std::string b) : a_(std::move(a)), b_(std::move(b)) {}
  bool match(const qf::Error& e) const override {
    const std::string m = e.what();
    return m.find(a_) != std::string::npos && m.find(b_) != std::string::npos;
  }
  std::string describe() const override { return "has a message containing \"" + a_ + "\" and \"" + b_ + "\""; }

 private:
  std::string a_, b_;
};

// Requires exactly a qf::Error (not another exception type) whose message contains a and b.
#define REQUIRE_ST_ERROR(expr, a, b) REQUIRE_THROWS_MATCHES(expr, qf::Error, ::qf::st::test::MessageHas(a, b))

using qf::test::TempDir;  // tests/support/temp_dir.hpp

inline std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file image: length prefix + header as given (no padding added) + data.
inline std::string raw_file(std::string_view header, std::string_view data) {
  return le64(header.size()) + std::string(header) + std::string(data);
}

inline void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

inline std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace qf::st::test
