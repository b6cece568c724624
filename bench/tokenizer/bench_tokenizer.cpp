// Tokenizer throughput: encodes a text file with each tokenizer (cold cache, then warm) and decodes it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const fs::path text_path =
      argc > 1 ? fs::path(argv[1]) : fs::path(QF_SOURCE_DIR) / ".." / "shared" / "data" / "wikitext-2-raw" / "wiki.test.raw";
  if (!fs::exists(text_path)) {
    std::printf("bench_tokenizer: text file %s not found; skipping (pass a text file as argv[1])\n",
                text_path.string().c_str());
    return 0;
  }
  std::vector<fs::path> dirs;
  for (int i = 2; i < argc; ++i) dirs.emplace_back(argv[i]);
  if (dirs.empty()) {
    for (const char* sub : {"tokenizers", "models"}) {
      const fs::path data = fs::path(QF_SOURCE_DIR) / "tests" / "data" / sub;
      if (fs::exists(data))
        for (const auto& e : fs::directory_iterator(data))
          if (fs::exists(e.path() / "tokenizer.json")) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
  }
  if (dirs.empty()) {
    std::printf("bench_tokenizer: no tokenizer folders given and none under tests/data/{tokenizers,models}; skipping\n");
    return 0;
  }
  std::ifstream in(text_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const double mb = double(text.size()) / 1e6;
  std::printf("text: %s (%.2f MB)\n", text_path.string().c_str(), mb);
  std::printf("%-28s %9s %10s %10s %12s %10s %10s\n", "tokenizer", "load s", "tokens", "cold MB/s", "cold tok/s",
              "warm MB/s", "decode s");
  for (const fs::path& dir : dirs) {
    try {
      auto t0 = std::chrono::steady_clock::now();
      const qf::tok::Tokenizer tok = fs::is_directory(dir) ? qf::tok::Tokenizer::from_dir(dir)
                                                           : qf::tok::Tokenizer::from_files(dir);
      const double load_s = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      const std::vector<int32_t> ids = tok.encode(text, false);
      const double cold = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      const std::vector<int32_t> ids2 = tok.encode(text, false);
      const double warm = seconds_since(t0);
      t0 = std::chrono::steady_clock::now();
      const std::string back = tok.decode(ids, false);
      const double dec = seconds_since(t0);
      std::printf("%-28s %9.3f %10zu %10.2f %12.0f %10.2f %10.3f%s\n", dir.filename().string().c_str(), load_s,
                  ids.size(), mb / cold, double(ids.size()) / cold, mb / warm, dec,
                  ids == ids2 ? "" : "  (warm ids differ!)");
      std::printf("%-28s encode cold %.3f s, warm %.3f s; round trip %s\n", "", cold, warm,
                  back == text ? "exact" : "differs (decoder Strip / normalizer / unk by design)");
    } catch (const qf::Error& e) {
      std::printf("%-28s error: %s\n", dir.filename().string().c_str(), e.what());
    }
  }
  return 0;
}
