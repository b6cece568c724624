#pragma once
// A fresh folder under the system temp dir, unique per process and call (tests may run in parallel).
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace qf::test {

inline std::filesystem::path unique_temp_dir(const std::string& stem) {
  std::random_device rd;
  const auto dir = std::filesystem::temp_directory_path() /
                   (stem + "_" + std::to_string(::getpid()) + "_" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace qf::test
