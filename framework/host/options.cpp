#include "host/options.hpp"

#include <toml++/toml.h>

#include <sstream>

#include "common/error.hpp"

namespace qf::host {
namespace {

const char* value_type_name(const OptionValue& v) {
  switch (v.index()) {
    case 0: return "bool";
    case 1: return "int";
    case 2: return "float";
    default: return "string";
  }
}

// Converts `v` to the declared type or returns false.
bool coerce(const OptionValue& v, qf_option_type type, OptionValue& out) {
  switch (type) {
    case QF_OPTION_BOOL:
      if (!std::holds_alternative<bool>(v)) return false;
      out = v;
      return true;
    case QF_OPTION_INT:
      if (!std::holds_alternative<int64_t>(v)) return false;
      out = v;
      return true;
    case QF_OPTION_FLOAT:
      if (std::holds_alternative<int64_t>(v)) {
        out = static_cast<double>(std::get<int64_t>(v));
        return true;
      }
      if (!std::holds_alternative<double>(v)) return false;
      out = v;
      return true;
    case QF_OPTION_STRING:
      if (!std::holds_alternative<std::string>(v)) return false;
      out = v;
      return true;
  }
  return false;
}

}  // namespace

OptionValue parse_default(const OptionSpec& spec, const std::string& plugin_name) {
  const std::string where = "plugin '" + plugin_name + "' option '" + spec.name + "'";
  toml::table t;
  try {
    t = toml::parse("v = " + spec.default_text);
  } catch (const toml::parse_error&) {
    throw Error(where + " has a default that is not a TOML literal: " + spec.default_text);
  }
  const toml::node* n = t.get("v");
  OptionValue raw;
  if (n->is_boolean()) raw = *n->value<bool>();
  else if (n->is_integer()) raw = *n->value<int64_t>();
  else if (n->is_floating_point()) raw = *n->value<double>();
  else if (n->is_string()) raw = *n->value<std::string>();
  else throw Error(where + " has a non-scalar default");
  OptionValue out;
  if (!coerce(raw, spec.type, out))
    throw Error(where + " declares type " + option_type_name(spec.type) + " but its default is a " +
                value_type_name(raw));
  return out;
}

std::map<std::string, OptionValue> resolve_options(const Plugin& plugin,
                                                   const std::map<std::string, GivenOption>& given) {
  std::map<std::string, OptionValue> out;
  for (const auto& spec : plugin.options()) out[spec.name] = parse_default(spec, plugin.name());
  for (const auto& [name, g] : given) {
    const OptionSpec* spec = plugin.option(name);
    if (spec == nullptr) {
      std::ostringstream known;
      for (const auto& s : plugin.options()) known << (known.tellp() > 0 ? ", " : "") << s.name;
      throw Error(g.origin + ": plugin '" + plugin.name() + "' has no option '" + name + "' (options: " +
                  known.str() + ")");
    }
    OptionValue v;
    if (!coerce(g.value, spec->type, v))
      throw Error(g.origin + ": option '" + name + "' of plugin '" + plugin.name() + "' must be " +
                  option_type_name(spec->type) + ", got " + value_type_name(g.value) + " " +
                  option_to_string(g.value));
    out[name] = v;
  }
  return out;
}

std::string option_to_string(const OptionValue& v) {
  std::ostringstream os;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) os << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::string>) os << '"' << x << '"';
        else os << x;
      },
      v);
  return os.str();
}

}  // namespace qf::host
