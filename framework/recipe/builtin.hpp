#pragma once
// Built-in recipes: `--awq`, `--gptq`, `rtn` -> <dir>/<name>.toml, first directory that has it.
#include <filesystem>
#include <string>
#include <vector>

namespace qf::recipe {

// Returns the first <dir>/<name>.toml that is a regular file. qf::Error listing every place
// looked when none is, or when name is not a plain name (empty, contains '/', '\\' or "..").
std::filesystem::path find_builtin_recipe(const std::string& name,
                                          const std::vector<std::filesystem::path>& search_dirs);

}  // namespace qf::recipe
