#pragma once
// Internal: JSON parsing for untrusted files. nlohmann keeps the last of duplicate keys silently;
// here duplicates (at any depth) and absurd nesting are qf::Error instead.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qf::st::detail {

// `what` prefixes every message, e.g. "model.safetensors: header".
nlohmann::json parse_json_strict(std::string_view text, const std::string& what);

}  // namespace qf::st::detail
