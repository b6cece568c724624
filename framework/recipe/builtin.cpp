#include "recipe/builtin.hpp"

#include "common/error.hpp"

namespace qf::recipe {

std::filesystem::path find_builtin_recipe(const std::string& name,
                                          const std::vector<std::filesystem::path>& search_dirs) {
  if (name.empty() || name.find_first_of("/\\") != std::string::npos || name == "." || name == ".." ||
      name.find('\0') != std::string::npos)
    throw qf::Error("invalid built-in recipe name '" + name + "' (a plain name such as awq, gptq, rtn)");
  std::string looked;
  for (const auto& dir : search_dirs) {
    const std::filesystem::path candidate = dir / (name + ".toml");
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    looked += "\n  " + candidate.generic_string();
  }
  if (looked.empty()) looked = " (no recipe directories configured)";
  throw qf::Error("built-in recipe '" + name + "' not found; looked in:" + looked);
}

}  // namespace qf::recipe
