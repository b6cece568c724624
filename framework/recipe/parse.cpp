// parse_recipe / load_recipe_file: strict TOML -> Recipe. Structural errors (unknown key, wrong
// type, bad enum) are reported here with the key's line; semantic checks live in validate.cpp.
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "common/error.hpp"
#include "recipe/recipe.hpp"
#include "recipe/toml_support.hpp"
#include "recipe/validate.hpp"

namespace qf::recipe {
namespace {

std::string join(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

class Parser {
 public:
  explicit Parser(const std::string& source) : src_(source) {}

  Recipe parse(const toml::table& root) {
    Recipe r;
    r.source_file = src_;
    r.name = std::filesystem::path(src_).stem().string();
    check_keys(root, "", {"name", "description", "compute_dtype", "method", "formats", "layout", "calibration"});
    opt_string(root, "", "name", r.name);
    opt_string(root, "", "description", r.description);
    opt_string(root, "", "compute_dtype", r.compute_dtype);

    if (const toml::node* m = root.get("method")) {
      r.method = plugin_step(*m, "method");
    } else {
      throw qf::Error(src_ + ": missing required table [method] (with 'plugin' and optional 'options')");
    }

    if (const toml::node* f = root.get("formats")) {
      const toml::array* arr = f->as_array();
      if (arr == nullptr) type_error(*f, "formats", "array of tables ([[formats]])");
      for (size_t i = 0; i < arr->size(); ++i)
        r.formats.push_back(plugin_step(*arr->get(i), "formats[" + std::to_string(i) + "]"));
      if (r.formats.empty()) fail(*f, "'formats' is empty: at least one [[formats]] table with a 'plugin' is required");
    }

    if (const toml::node* l = root.get("layout")) r.layout = layout(*l);  // else standalone, defaults
    if (r.layout.index_file.empty()) r.layout.index_file = "model" + r.layout.suffix + ".safetensors.index.json";

    if (const toml::node* c = root.get("calibration")) r.calibration = calibration(*c);

    detail::check_recipe(r, locations_);
    return r;
  }

 private:
  std::string at(const toml::node& n) const { return detail::at(src_, n.source()); }
  std::string at(const toml::key& k) const { return detail::at(src_, k.source()); }

  [[noreturn]] void fail(const toml::node& n, const std::string& message) const {
    throw qf::Error(at(n) + ": " + message);
  }
  [[noreturn]] void type_error(const toml::node& n, const std::string& path, const std::string& expected) const {
    fail(n, "'" + path + "' has type " + detail::toml_type_name(n.type()) + ", expected " + expected);
  }

  void check_keys(const toml::table& t, const std::string& path, std::initializer_list<const char*> allowed) const {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || k.str() == a;
      if (ok) continue;
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw qf::Error(at(k) + ": unknown key '" + join(path, k.str()) + "' (expected one of: " + list + ")");
    }
  }

  const toml::node* lookup(const toml::table& t, const std::string& path, const char* key) {
    const toml::node* n = t.get(key);
    if (n != nullptr) locations_[join(path, key)] = at(*n);
    return n;
  }

  const toml::table& table(const toml::node& n, const std::string& path) {
    const toml::table* t = n.as_table();
    if (t == nullptr) type_error(n, path, "table");
    locations_[path] = at(n);
    return *t;
  }

  void opt_string(const toml::table& t, const std::string& path, const char* key, std::string& out) {
    if (const toml::node* n = lookup(t, path, key)) {
      if (!n->is_string()) type_error(*n, join(path, key), "string");
      out = n->as_string()->get();
    }
  }
  void opt_int(const toml::table& t, const std::string& path, const char* key, int64_t& out) {
    if (const toml::node* n = lookup(t, path, key)) {
      if (!n->is_integer()) type_error(*n, join(path, key), "integer");
      out = n->as_integer()->get();
    }
  }
  void opt_bool(const toml::table& t, const std::string& path, const char* key, bool& out) {
    if (const toml::node* n = lookup(t, path, key)) {
      if (!n->is_boolean()) type_error(*n, join(path, key), "boolean");
      out = n->as_boolean()->get();
    }
  }

  PluginStep plugin_step(const toml::node& n, const std::string& path) {
    const toml::table& t = table(n, path);
    check_keys(t, path, {"plugin", "options"});
    PluginStep step;
    if (t.get("plugin") == nullptr) fail(n, "missing required key '" + path + ".plugin'");
    opt_string(t, path, "plugin", step.plugin);
    if (step.plugin.empty()) fail(*t.get("plugin"), "'" + path + ".plugin' must not be empty");
    if (const toml::node* o = lookup(t, path, "options")) {
      const std::string opath = path + ".options";
      const toml::table& opts = table(*o, opath);
      for (auto&& [k, v] : opts) {
        const std::string kpath = join(opath, k.str());
        std::optional<OptionValue> value = detail::scalar_of(v);
        if (!value)
          fail(v, "'" + kpath + "' must be a scalar (boolean, integer, float or string), got " +
                      detail::toml_type_name(v.type()));
        locations_[kpath] = at(v);
        step.options[std::string(k.str())] = SourcedValue{std::move(*value), at(v)};
      }
    }
    return step;
  }

  Layout layout(const toml::node& n) {
    const toml::table& t = table(n, "layout");
    check_keys(t, "layout", {"policy", "suffix", "subdirectory", "quant_config_file", "index_file",
                             "always_write_index", "copy_model_files"});
    Layout l;
    const toml::node* p = lookup(t, "layout", "policy");
    if (p == nullptr) fail(n, "missing required key 'layout.policy' (one of in_place, subdirectory, standalone)");
    if (!p->is_string()) type_error(*p, "layout.policy", "string");
    const std::string& name = p->as_string()->get();
    if (name == "in_place") {
      l.policy = LayoutPolicy::InPlace;
    } else if (name == "subdirectory") {
      l.policy = LayoutPolicy::Subdirectory;
    } else if (name == "standalone") {
      l.policy = LayoutPolicy::Standalone;
    } else {
      fail(*p, "'layout.policy' must be one of in_place, subdirectory, standalone (got " + detail::quote(name) + ")");
    }
    l.copy_model_files = l.policy != LayoutPolicy::InPlace;
    opt_string(t, "layout", "suffix", l.suffix);
    opt_string(t, "layout", "subdirectory", l.subdirectory);
    opt_string(t, "layout", "quant_config_file", l.quant_config_file);
    opt_string(t, "layout", "index_file", l.index_file);
    if (t.get("index_file") != nullptr && l.index_file.empty())
      fail(*t.get("index_file"), "'layout.index_file' must not be empty (leave it out for the default)");
    opt_bool(t, "layout", "always_write_index", l.always_write_index);
    opt_bool(t, "layout", "copy_model_files", l.copy_model_files);
    return l;
  }

  Calibration calibration(const toml::node& n) {
    const toml::table& t = table(n, "calibration");
    check_keys(t, "calibration", {"dataset", "num_samples", "seqlen", "seed", "dataset_path", "fallback_dataset"});
    Calibration c;
    opt_string(t, "calibration", "dataset", c.dataset);
    opt_int(t, "calibration", "num_samples", c.num_samples);
    opt_int(t, "calibration", "seqlen", c.seqlen);
    opt_int(t, "calibration", "seed", c.seed);
    opt_string(t, "calibration", "dataset_path", c.dataset_path);
    opt_string(t, "calibration", "fallback_dataset", c.fallback_dataset);
    return c;
  }

  const std::string& src_;
  detail::KeyLocations locations_;
};

}  // namespace

Recipe parse_recipe(std::string_view toml_text, const std::string& source_name) {
  const toml::table root = detail::parse_toml(toml_text, source_name);
  return Parser(source_name).parse(root);
}

Recipe load_recipe_file(const std::filesystem::path& path) {
  const std::string name = path.generic_string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw qf::Error(name + ": is a directory, not a recipe file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw qf::Error(name + ": cannot open recipe file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw qf::Error(name + ": cannot read recipe file");
  return parse_recipe(text.str(), name);
}

void validate(const Recipe& recipe) { detail::check_recipe(recipe, {}); }

}  // namespace qf::recipe
