#pragma once
// CLI overrides of recipe values (`--bits 4` -> method option, origin "--bits").
#include <string>
#include <string_view>

#include "recipe/recipe.hpp"

namespace qf::recipe {

// Sets (adds or replaces) a method option. The name must be non-empty; the value's type is
// checked later by the host against the plugin's schema. Use translate_option() first to map a
// user-facing name (bits, group_size, zero_point) onto the name the plugin declares.
void set_method_option(Recipe& recipe, const std::string& name, OptionValue value, const std::string& origin);

// "true"/"false" (any case) -> bool; decimal integer (optional sign) -> int64_t; decimal float
// ("0.1", "1e-3", "-.5") -> double; anything else -> string, as is. An integer literal outside
// int64 is a qf::Error (not silently a string).
OptionValue parse_cli_value(std::string_view text);

}  // namespace qf::recipe
