#include "calib/data_dirs.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "common/error.hpp"

namespace qf::calib {
namespace fs = std::filesystem;

namespace {

void add_unique(std::vector<fs::path>& dirs, const fs::path& p) {
  if (p.empty()) return;
  const fs::path norm = p.lexically_normal();
  if (std::find(dirs.begin(), dirs.end(), norm) == dirs.end()) dirs.push_back(norm);
}

fs::path exe_prefix_data_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  // <prefix>/bin/quantforge -> <prefix>/share/quantforge/data
  return exe.parent_path().parent_path() / "share" / "quantforge" / "data";
}

bool glob_match(const std::string& pattern, const std::string& name) {
  const size_t star = pattern.find('*');
  if (star == std::string::npos) return pattern == name;
  const std::string pre = pattern.substr(0, star);
  const std::string post = pattern.substr(star + 1);
  return name.size() >= pre.size() + post.size() && name.compare(0, pre.size(), pre) == 0 &&
         name.compare(name.size() - post.size(), post.size(), post) == 0;
}

}  // namespace

std::vector<fs::path> data_search_dirs(const std::string& dataset_path, const std::vector<fs::path>& extra_dirs) {
  std::vector<fs::path> dirs;
  if (!dataset_path.empty()) add_unique(dirs, fs::path(dataset_path));
  if (const char* env = std::getenv("QUANTFORGE_DATA_DIR"); env != nullptr && *env != '\0') {
    const std::string value(env);
    size_t start = 0;
    while (start <= value.size()) {
      const size_t colon = value.find(':', start);
      const size_t end = colon == std::string::npos ? value.size() : colon;
      if (end > start) add_unique(dirs, fs::path(value.substr(start, end - start)));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  add_unique(dirs, exe_prefix_data_dir());
  for (const auto& d : extra_dirs) add_unique(dirs, d);
  return dirs;
}

fs::path find_in_dirs(const std::vector<fs::path>& dirs, const std::vector<std::string>& rel_paths,
                      std::vector<fs::path>& looked) {
  for (const auto& dir : dirs) {
    for (const auto& rel : rel_paths) {
      const fs::path candidate = dir / rel;
      looked.push_back(candidate);
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return {};
}

fs::path find_glob_in_dirs(const std::vector<fs::path>& dirs, const std::vector<std::string>& rel_patterns,
                           std::vector<fs::path>& looked) {
  for (const auto& dir : dirs) {
    for (const auto& rel : rel_patterns) {
      const fs::path pattern = dir / rel;
      looked.push_back(pattern);
      const std::string name_pattern = pattern.filename().string();
      std::error_code ec;
      if (name_pattern.find('*') == std::string::npos) {
        if (fs::is_regular_file(pattern, ec)) return pattern;
        continue;
      }
      const fs::path parent = pattern.parent_path();
      if (!fs::is_directory(parent, ec)) continue;
      std::vector<fs::path> matches;
      for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && glob_match(name_pattern, it->path().filename().string())) {
          matches.push_back(it->path());
        }
      }
      if (!matches.empty()) {
        std::sort(matches.begin(), matches.end());
        return matches.front();
      }
    }
  }
  return {};
}

void throw_dataset_not_found(const std::string& kind, const std::string& dataset,
                             const std::vector<std::filesystem::path>& dirs, const std::vector<std::string>& file_names,
                             const std::vector<std::filesystem::path>& looked, const std::string& hint) {
  std::string msg = kind + " dataset \"" + dataset + "\" not found.";
  if (dirs.empty()) {
    msg += " No data folder to search (none of --dataset-path, $QUANTFORGE_DATA_DIR, <prefix>/share/quantforge/data).";
  } else {
    msg += " Looked for:";
    for (const auto& p : looked) msg += "\n  " + p.string();
  }
  msg += "\nPut the file in one of these folders, pass --dataset-path DIR, set QUANTFORGE_DATA_DIR, or pass the "
         "file itself as --dataset PATH.";
  if (!hint.empty()) msg += " " + hint;
  throw DatasetNotFound(msg, dataset, file_names, dirs);
}

}  // namespace qf::calib
