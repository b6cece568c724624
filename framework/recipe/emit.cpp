// to_toml: the resolved recipe, every key written out, each option's origin as a comment.
#include <sstream>

#include "recipe/recipe.hpp"
#include "recipe/toml_support.hpp"

namespace qf::recipe {
namespace {

using detail::key;
using detail::quote;

std::string comment_text(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

void options(std::ostringstream& os, const std::string& header, const std::map<std::string, SourcedValue>& opts) {
  if (opts.empty()) return;
  os << "\n[" << header << "]\n";
  for (const auto& [name, v] : opts) {
    os << key(name) << " = " << option_to_toml(v.value);
    if (!v.origin.empty()) os << "  # " << comment_text(v.origin);
    os << "\n";
  }
}

}  // namespace

std::string to_toml(const Recipe& r) {
  std::ostringstream os;
  os << "# Resolved recipe";
  if (!r.source_file.empty()) os << " from " << comment_text(r.source_file);
  os << "; comments name where each option value came from.\n";
  os << "name = " << quote(r.name) << "\n";
  os << "description = " << quote(r.description) << "\n";
  os << "compute_dtype = " << quote(r.compute_dtype) << "\n";

  os << "\n[method]\nplugin = " << quote(r.method.plugin) << "\n";
  options(os, "method.options", r.method.options);

  for (const PluginStep& f : r.formats) {
    os << "\n[[formats]]\nplugin = " << quote(f.plugin) << "\n";
    options(os, "formats.options", f.options);  // applies to the [[formats]] entry just opened
  }

  const Layout& l = r.layout;
  os << "\n[layout]\n";
  os << "policy = " << quote(layout_policy_name(l.policy)) << "\n";
  os << "suffix = " << quote(l.suffix) << "\n";
  if (!l.subdirectory.empty()) os << "subdirectory = " << quote(l.subdirectory) << "\n";
  os << "quant_config_file = " << quote(l.quant_config_file) << "\n";
  os << "index_file = " << quote(l.index_file) << "\n";
  os << "always_write_index = " << (l.always_write_index ? "true" : "false") << "\n";
  os << "copy_model_files = " << (l.copy_model_files ? "true" : "false") << "\n";

  if (r.calibration) {
    const Calibration& c = *r.calibration;
    os << "\n[calibration]\n";
    os << "dataset = " << quote(c.dataset) << "\n";
    os << "num_samples = " << c.num_samples << "\n";
    os << "seqlen = " << c.seqlen << "\n";
    os << "seed = " << c.seed << "\n";
    os << "dataset_path = " << quote(c.dataset_path) << "\n";
    if (!c.fallback_dataset.empty()) os << "fallback_dataset = " << quote(c.fallback_dataset) << "\n";
  }
  return os.str();
}

}  // namespace qf::recipe
