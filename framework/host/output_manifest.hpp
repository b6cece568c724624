#pragma once
// How a folder remembers which files quantforge wrote into it: a small JSON manifest committed with
// every output set. A rerun replaces exactly those files; anything else in the folder is the user's.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace qf::host {

// ".quantforge-manifest.json" for a folder that is one output set; ".quantforge-manifest-<key>.json"
// for a set of files inside a folder that holds other things (in-place outputs beside the model).
std::string manifest_file_name(const std::string& in_place_key);

// The file names a manifest lists; nullopt when the file is absent or is not one of ours.
std::optional<std::vector<std::string>> read_manifest(const std::filesystem::path& file);
// Written atomically (temporary file, then rename).
void write_manifest(const std::filesystem::path& file, const std::vector<std::string>& names);

// True for an empty file or one whose first line has our log's "[HH:MM:SS] [level] " prefix, so a
// --log-file that points at a model file or any other document is refused instead of truncated.
bool looks_like_our_log(const std::filesystem::path& file);

}  // namespace qf::host
