#pragma once
// Where a run's files go and what they are called, from the recipe's layout policy.
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "recipe/recipe.hpp"

namespace qf::pipeline {

struct ResolvedLayout {
  recipe::LayoutPolicy policy;
  std::filesystem::path destination;  // folder the files land in
  std::string file_suffix;            // weight file suffix ("-AWQ")
  std::string index_file;
  bool always_write_index = false;
  std::string quant_config_file;      // "" = none
  bool copy_model_files = false;
};

// `bits`: the method's bit width, for "{bits}" in subdirectory names. `output` (--output) turns
// any recipe into a standalone layout. Throws qf::Error for a standalone layout without an output
// folder and for an output folder that is the model folder itself.
ResolvedLayout resolve_layout(const recipe::Layout& layout, const std::filesystem::path& model_dir,
                              const std::optional<std::filesystem::path>& output, int64_t bits, int64_t group_size);

// In place: the name of the output set beside the model's files, the suffix without its leading
// separator ("-AWQ" -> "AWQ"); it names the set's manifest, lock and staging folder.
std::string in_place_key(const ResolvedLayout& layout);

// In place: a file name an earlier run of this layout wrote (its weights, index, quant config).
bool is_earlier_output(const ResolvedLayout& layout, const std::string& name);

// The user's files this run must never replace: everything in the model folder that is not a
// previous output of this same layout.
std::set<std::filesystem::path> protected_files(const std::filesystem::path& model_dir, const ResolvedLayout& layout);

}  // namespace qf::pipeline
