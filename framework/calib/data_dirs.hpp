#pragma once
// Where named calibration datasets are looked for, and the per-dataset file names.
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace qf::calib {

// A named dataset none of whose files is in the search folders (or a dataset file that does not
// exist). Its own type so that a caller with an alternative (a recipe's fallback_dataset) can
// catch exactly this and let every other error (unreadable file, too short, bad protocol) through.
class DatasetNotFound : public Error {
 public:
  DatasetNotFound(const std::string& message, std::string dataset, std::vector<std::string> file_names,
                  std::vector<std::filesystem::path> dirs)
      : Error(message), dataset_(std::move(dataset)), file_names_(std::move(file_names)), dirs_(std::move(dirs)) {}
  const std::string& dataset() const { return dataset_; }
  // The file names (relative to a search folder) any of which would have been used.
  const std::vector<std::string>& file_names() const { return file_names_; }
  // The folders searched, in order (empty for a file path).
  const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

 private:
  std::string dataset_;
  std::vector<std::string> file_names_;
  std::vector<std::filesystem::path> dirs_;
};

// In order: dataset_path (--dataset-path) when non-empty; each entry of $QUANTFORGE_DATA_DIR
// (':'-separated); <exe prefix>/share/quantforge/data (exe prefix = parent of the executable's
// bin/ folder; the build tree mirrors that layout); then extra_dirs. No other
// conventional place is guessed. Duplicates are dropped; folders need not exist.
std::vector<std::filesystem::path> data_search_dirs(const std::string& dataset_path,
                                                     const std::vector<std::filesystem::path>& extra_dirs = {});

// First existing regular file among dir/rel for each dir in dirs (dir-major: the earlier folder
// wins), trying rel_paths in order within a folder. Every candidate tried is appended to `looked`.
// Returns an empty path when none exists.
std::filesystem::path find_in_dirs(const std::vector<std::filesystem::path>& dirs,
                                   const std::vector<std::string>& rel_paths,
                                   std::vector<std::filesystem::path>& looked);

// Like find_in_dirs, but each rel_path's file name may contain one '*' (matched against the
// folder's entries, sorted by name).
std::filesystem::path find_glob_in_dirs(const std::vector<std::filesystem::path>& dirs,
                                        const std::vector<std::string>& rel_patterns,
                                        std::vector<std::filesystem::path>& looked);

// Throws DatasetNotFound: `<kind> dataset "<dataset>" not found`, every path looked at, and how to
// fix it. `kind` is "calibration" or "evaluation"; `file_names` are the names that were tried in
// each folder; `hint` (optional) is appended as a last sentence.
[[noreturn]] void throw_dataset_not_found(const std::string& kind, const std::string& dataset,
                                          const std::vector<std::filesystem::path>& dirs,
                                          const std::vector<std::string>& file_names,
                                          const std::vector<std::filesystem::path>& looked,
                                          const std::string& hint = "");

}  // namespace qf::calib
