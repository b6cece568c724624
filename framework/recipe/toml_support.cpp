#include "recipe/toml_support.hpp"

#include <cstdio>

#include "common/error.hpp"

namespace qf::recipe::detail {

const char* toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "none";
}

std::string at(const std::string& source, const toml::source_region& region) {
  if (region.begin.line == 0) return source;
  return source + ":" + std::to_string(region.begin.line);
}

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    std::string where = source;
    if (b.line != 0) where += ":" + std::to_string(b.line) + ":" + std::to_string(b.column);
    throw qf::Error(where + ": TOML syntax error: " + std::string(e.description()));
  }
}

std::optional<OptionValue> scalar_of(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::boolean: return OptionValue{node.as_boolean()->get()};
    case toml::node_type::integer: return OptionValue{static_cast<int64_t>(node.as_integer()->get())};
    case toml::node_type::floating_point: return OptionValue{node.as_floating_point()->get()};
    case toml::node_type::string: return OptionValue{node.as_string()->get()};
    default: return std::nullopt;
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string key(std::string_view s) {
  if (s.empty()) return "\"\"";
  for (char c : s) {
    const bool bare = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!bare) return quote(s);
  }
  return std::string(s);
}

}  // namespace qf::recipe::detail
