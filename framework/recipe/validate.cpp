#include "recipe/validate.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "common/compute_dtype.hpp"
#include "common/error.hpp"

namespace qf::recipe::detail {
namespace {

class Checker {
 public:
  Checker(const Recipe& r, const KeyLocations& loc) : r_(r), loc_(loc) {}

  [[noreturn]] void fail(const std::string& key_path, const std::string& message) const {
    auto it = loc_.find(key_path);
    std::string where = it != loc_.end() ? it->second : (r_.source_file.empty() ? "<recipe>" : r_.source_file);
    throw qf::Error(where + ": " + message);
  }

  // A file name written into the model or output directory: no path separators, not "."/"..".
  void plain_file_name(const std::string& key_path, const std::string& v, bool allow_empty) const {
    if (v.empty()) {
      if (!allow_empty) fail(key_path, "'" + key_path + "' must not be empty");
      return;
    }
    if (v.find_first_of("/\\") != std::string::npos || v.find('\0') != std::string::npos || v == "." || v == "..")
      fail(key_path, "'" + key_path + "' must be a plain file name without '/' or '\\' (got \"" + v + "\")");
  }

  void placeholders(const std::string& key_path, const std::string& v) const {
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '}') fail(key_path, "'" + key_path + "' has an unmatched '}' (got \"" + v + "\")");
      if (v[i] != '{') continue;
      const size_t close = v.find('}', i);
      if (close == std::string::npos) fail(key_path, "'" + key_path + "' has an unmatched '{' (got \"" + v + "\")");
      const std::string name = v.substr(i + 1, close - i - 1);
      if (!is_known_placeholder(name))
        fail(key_path, "'" + key_path + "' uses unknown placeholder {" + name +
                           "} (known: {bits}, {group_size}) (got \"" + v + "\")");
      i = close;
    }
  }

  void run() const {
    if (r_.method.plugin.empty()) fail("method.plugin", "missing required key 'method.plugin'");
    for (const auto& [name, v] : r_.method.options)
      if (name.empty()) fail("method.options", "empty option name in 'method.options'");
    if (r_.formats.empty())
      fail("formats", "missing required key 'formats': at least one [[formats]] table with a 'plugin'");
    for (size_t i = 0; i < r_.formats.size(); ++i) {
      const std::string p = "formats[" + std::to_string(i) + "]";
      if (r_.formats[i].plugin.empty()) fail(p + ".plugin", "missing required key '" + p + ".plugin'");
      for (const auto& [name, v] : r_.formats[i].options)
        if (name.empty()) fail(p + ".options", "empty option name in '" + p + ".options'");
    }
    if (!parse_compute_dtype(r_.compute_dtype))
      fail("compute_dtype", "'compute_dtype' must be one of auto, fp32, bf16 (got \"" + r_.compute_dtype + "\")");
    layout();
    if (r_.calibration) {
      const Calibration& c = *r_.calibration;
      if (c.dataset.empty()) fail("calibration.dataset", "'calibration.dataset' must not be empty");
      if (c.num_samples <= 0)
        fail("calibration.num_samples",
             "'calibration.num_samples' must be positive (got " + std::to_string(c.num_samples) + ")");
      if (c.seqlen <= 0)
        fail("calibration.seqlen", "'calibration.seqlen' must be positive (got " + std::to_string(c.seqlen) + ")");
    }
  }

  void layout() const {
    const Layout& l = r_.layout;
    plain_file_name("layout.suffix", l.suffix, true);
    plain_file_name("layout.quant_config_file", l.quant_config_file, true);
    plain_file_name("layout.index_file", l.index_file, false);
    switch (l.policy) {
      case LayoutPolicy::InPlace: {
        // The model's own files are never modified: everything written must have a new name.
        if (l.suffix.empty())
          fail("layout.policy", "layout policy in_place needs a non-empty 'layout.suffix' (e.g. \"-AWQ\"), "
                                "or the model's own weight files would be overwritten");
        if (l.copy_model_files)
          fail("layout.copy_model_files", "'layout.copy_model_files' must be false with policy in_place "
                                          "(it would overwrite the model's own config.json)");
        static const std::array<const char*, 7> originals = {
            "config.json",           "generation_config.json",  "tokenizer.json",        "tokenizer_config.json",
            "special_tokens_map.json", "model.safetensors.index.json", "model.safetensors"};
        const std::pair<const char*, const std::string*> written[] = {
            {"layout.quant_config_file", &l.quant_config_file}, {"layout.index_file", &l.index_file}};
        for (const auto& [key, value] : written) {
          if (std::find(originals.begin(), originals.end(), *value) != originals.end())
            fail(key, "'" + std::string(key) + "' = \"" + *value +
                          "\" would overwrite one of the model's own files with policy in_place");
        }
        if (!l.subdirectory.empty())
          fail("layout.subdirectory", "'layout.subdirectory' is only used with policy subdirectory");
        break;
      }
      case LayoutPolicy::Subdirectory:
        if (l.subdirectory.empty())
          fail("layout.policy", "layout policy subdirectory needs 'layout.subdirectory' (e.g. \"GPTQ_{bits}bit_CPU\")");
        plain_file_name("layout.subdirectory", l.subdirectory, false);
        placeholders("layout.subdirectory", l.subdirectory);
        break;
      case LayoutPolicy::Standalone:
        if (!l.subdirectory.empty())
          fail("layout.subdirectory", "'layout.subdirectory' is only used with policy subdirectory");
        break;
    }
  }

 private:
  const Recipe& r_;
  const KeyLocations& loc_;
};

}  // namespace

bool is_known_placeholder(const std::string& name) { return name == "bits" || name == "group_size"; }

void check_recipe(const Recipe& recipe, const KeyLocations& locations) { Checker(recipe, locations).run(); }

}  // namespace qf::recipe::detail
