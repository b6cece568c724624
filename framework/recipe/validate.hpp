#pragma once
// Internal: the semantic checks shared by parse_recipe (which knows each key's line) and
// validate() (which does not).
#include <map>
#include <string>

#include "recipe/recipe.hpp"

namespace qf::recipe::detail {

// key path ("layout.suffix", "formats[1].plugin") -> "source:LINE" for keys that were read.
using KeyLocations = std::map<std::string, std::string>;

void check_recipe(const Recipe& recipe, const KeyLocations& locations);

// Placeholders allowed in layout.subdirectory.
bool is_known_placeholder(const std::string& name);

}  // namespace qf::recipe::detail
