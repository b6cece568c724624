#pragma once
// Where named calibration datasets are looked for, and the per-dataset file names.
#include <filesystem>
#include <string>
#include <vector>

namespace qf::calib {

// In order: dataset_path (--dataset-path) when non-empty; each entry of $QUANTFORGE_DATA_DIR
// (':'-separated); <exe prefix>/share/quantforge/data (exe prefix = parent of the executable's
// bin/ folder); then extra_dirs (e.g. the bundled data/ folder the host passes). No other
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

// Throws qf::Error: `<kind> dataset "<dataset>" not found`, every path looked at, and how to fix it.
// `kind` is "calibration" or "evaluation".
[[noreturn]] void throw_dataset_not_found(const std::string& kind, const std::string& dataset,
                                          const std::vector<std::filesystem::path>& dirs,
                                          const std::vector<std::filesystem::path>& looked);

}  // namespace qf::calib
