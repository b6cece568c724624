#include "pipeline/layout.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "host/output_manifest.hpp"

namespace fs = std::filesystem;

namespace qf::pipeline {
namespace {

std::string expand(std::string text, const std::string& key, const std::string& value) {
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size()))
    text.replace(pos, key.size(), value);
  return text;
}

bool same_folder(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

}  // namespace

ResolvedLayout resolve_layout(const recipe::Layout& layout, const fs::path& model_dir,
                              const std::optional<fs::path>& output, int64_t bits, int64_t group_size) {
  ResolvedLayout r;
  r.policy = output ? recipe::LayoutPolicy::Standalone : layout.policy;
  r.quant_config_file = layout.quant_config_file;
  r.always_write_index = layout.always_write_index;
  switch (r.policy) {
    case recipe::LayoutPolicy::InPlace:
      if (layout.suffix.empty()) throw Error("layout in_place needs a non-empty suffix (e.g. \"-AWQ\")");
      r.destination = model_dir;
      r.file_suffix = layout.suffix;
      r.copy_model_files = false;
      break;
    case recipe::LayoutPolicy::Subdirectory: {
      std::string sub = expand(expand(layout.subdirectory, "{bits}", std::to_string(bits)), "{group_size}",
                               std::to_string(group_size));
      if (sub.empty() || sub.find('/') != std::string::npos || sub == "." || sub == "..")
        throw Error("layout subdirectory must be a plain folder name, got \"" + sub + "\"");
      r.destination = model_dir / sub;
      r.copy_model_files = !layout.single_file;
      break;
    }
    case recipe::LayoutPolicy::Standalone:
      if (!output) throw Error("this recipe writes a standalone model: give the output folder with --output DIR");
      if (same_folder(*output, model_dir))
        throw Error("--output must not be the model folder itself (" + output->string() + ")");
      r.destination = *output;
      r.copy_model_files = !layout.single_file;
      break;
  }
  r.index_file = layout.index_file.empty() ? "model" + r.file_suffix + ".safetensors.index.json" : layout.index_file;
  return r;
}

std::string in_place_key(const ResolvedLayout& layout) {
  std::string key = layout.file_suffix;
  while (!key.empty() && (key.front() == '-' || key.front() == '.')) key.erase(key.begin());
  return key.empty() ? layout.file_suffix : key;
}

bool is_earlier_output(const ResolvedLayout& layout, const std::string& name) {
  if (layout.policy != recipe::LayoutPolicy::InPlace) return false;
  if (!layout.quant_config_file.empty() && name == layout.quant_config_file) return true;
  if (name == layout.index_file) return true;
  if (name.find(layout.file_suffix) == std::string::npos) return false;
  for (const std::string ext : {".safetensors", ".gguf"})
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) return true;
  return false;
}

std::set<fs::path> protected_files(const fs::path& model_dir, const ResolvedLayout& layout) {
  std::set<fs::path> out;
  std::error_code ec;
  std::vector<std::string> listed;
  if (layout.policy == recipe::LayoutPolicy::InPlace) {
    if (auto names = host::read_manifest(model_dir / host::manifest_file_name(in_place_key(layout))))
      listed = *names;
  }
  for (const auto& entry : fs::directory_iterator(model_dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    const bool ours = is_earlier_output(layout, name) ||
                      std::find(listed.begin(), listed.end(), name) != listed.end() ||
                      (layout.policy == recipe::LayoutPolicy::InPlace && name == "quantize.log" &&
                       host::looks_like_our_log(entry.path()));
    if (!ours) out.insert(entry.path());
  }
  return out;
}

}  // namespace qf::pipeline
