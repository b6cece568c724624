// Small pieces of the recipe model: equality, names, literals, placeholder expansion.
#include "recipe/recipe.hpp"

#include <charconv>
#include <cmath>

#include "common/error.hpp"
#include "recipe/quant_config.hpp"
#include "recipe/toml_support.hpp"
#include "recipe/validate.hpp"

namespace qf::recipe {

bool operator==(const SourcedValue& a, const SourcedValue& b) { return a.value == b.value; }
bool operator!=(const SourcedValue& a, const SourcedValue& b) { return !(a == b); }
bool operator==(const PluginStep& a, const PluginStep& b) { return a.plugin == b.plugin && a.options == b.options; }
bool operator!=(const PluginStep& a, const PluginStep& b) { return !(a == b); }
bool operator==(const Layout& a, const Layout& b) {
  return a.policy == b.policy && a.suffix == b.suffix && a.subdirectory == b.subdirectory &&
         a.quant_config_file == b.quant_config_file && a.index_file == b.index_file &&
         a.always_write_index == b.always_write_index && a.copy_model_files == b.copy_model_files &&
         a.single_file == b.single_file;
}
bool operator!=(const Layout& a, const Layout& b) { return !(a == b); }
bool operator==(const Calibration& a, const Calibration& b) {
  return a.dataset == b.dataset && a.num_samples == b.num_samples && a.seqlen == b.seqlen && a.seed == b.seed &&
         a.dataset_path == b.dataset_path && a.fallback_dataset == b.fallback_dataset;
}
bool operator!=(const Calibration& a, const Calibration& b) { return !(a == b); }
bool operator==(const Recipe& a, const Recipe& b) {
  return a.name == b.name && a.description == b.description && a.method == b.method && a.formats == b.formats &&
         a.layout == b.layout && a.calibration == b.calibration && a.compute_dtype == b.compute_dtype;
}
bool operator!=(const Recipe& a, const Recipe& b) { return !(a == b); }

const char* layout_policy_name(LayoutPolicy p) {
  switch (p) {
    case LayoutPolicy::InPlace: return "in_place";
    case LayoutPolicy::Subdirectory: return "subdirectory";
    case LayoutPolicy::Standalone: return "standalone";
  }
  QF_ASSERT(false, "unknown LayoutPolicy value");
  return "?";
}

const char* option_type_name(const OptionValue& v) {
  static const char* const names[] = {"boolean", "integer", "float", "string"};
  return names[v.index()];
}

std::string option_to_toml(const OptionValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    if (std::isnan(*d)) return "nan";
    if (std::isinf(*d)) return *d > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, *d);  // shortest text that reads back exactly
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }
  return detail::quote(std::get<std::string>(v));
}

std::string expand_placeholders(const std::string& pattern, const Recipe& recipe) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos) throw qf::Error("unmatched '{' in \"" + pattern + "\"");
    const std::string name = pattern.substr(i + 1, close - i - 1);
    if (!detail::is_known_placeholder(name))
      throw qf::Error("unknown placeholder {" + name + "} in \"" + pattern + "\" (known: {bits}, {group_size})");
    const SourcedValue* v = find_option(recipe.method.options, name);
    if (v == nullptr)
      throw qf::Error("\"" + pattern + "\" needs {" + name + "} but method '" + recipe.method.plugin +
                      "' has no option '" + name + "' (or an alias of it) in recipe " + recipe.source_file);
    if (const int64_t* n = std::get_if<int64_t>(&v->value)) {
      out += std::to_string(*n);
    } else {
      throw qf::Error(v->origin + ": option '" + name + "' must be an integer to name the output directory, got " +
                      option_type_name(v->value));
    }
    i = close;
  }
  return out;
}

}  // namespace qf::recipe
