#pragma once
// Internal helpers shared by the recipe parser, the emitter and the quant_config reader.
// Not installed, not part of the API.
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "recipe/recipe.hpp"

namespace qf::recipe::detail {

// "boolean", "integer", "float", "string", "array", "table", "date", "time", "date-time".
const char* toml_type_name(toml::node_type t);

// "source:LINE" when the region has a position, else "source".
std::string at(const std::string& source, const toml::source_region& region);

// Parses TOML text; a syntax error becomes qf::Error "source:LINE:COLUMN: TOML syntax error: ...".
toml::table parse_toml(std::string_view text, const std::string& source);

// The scalar value of a boolean / integer / float / string node; nullopt for anything else.
std::optional<OptionValue> scalar_of(const toml::node& node);

// TOML basic string literal with escapes: "a\"b".
std::string quote(std::string_view s);
// Bare key when possible (A-Za-z0-9_-), else a quoted key.
std::string key(std::string_view s);

}  // namespace qf::recipe::detail
