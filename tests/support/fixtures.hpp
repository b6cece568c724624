#pragma once
// Fixtures under tests/data are part of the repository: a test that needs one fails, naming it, when it
// is missing (never skips).
#include <catch2/catch.hpp>

#include <filesystem>

namespace qf::test {

// The fixture's path; fails the running test when the file or folder does not exist.
inline std::filesystem::path require_fixture(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    FAIL("required fixture missing: " << path.string() << " (tests/data is part of the repository)");
  return path;
}

}  // namespace qf::test
