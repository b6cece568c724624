// --format: which format chain writes the output, and what the layout then copies beside it.
#include <algorithm>
#include <map>

#include "common/error.hpp"
#include "recipe/recipe.hpp"

namespace qf::recipe {

const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> names{"safetensors", "gguf", "compressed-tensors"};
  return names;
}

void apply_output_format(Recipe& r, const std::string& format) {
  const auto& names = output_format_names();
  if (std::find(names.begin(), names.end(), format) == names.end())
    throw Error("--format " + format + " is not a format quantforge writes (safetensors, gguf, compressed-tensors)");
  if (format == "safetensors") {
    const bool already = !r.formats.empty() && r.formats.front().plugin == "safetensors_writer";
    if (!already) r.formats = {PluginStep{"safetensors_writer", {}}, PluginStep{"index_writer", {}}};
    return;
  }
  if (format == "gguf") {
    // One self-contained file: no index, no config.json or quantization config file beside it.
    r.formats = {PluginStep{"gguf_writer", {}}};
    r.layout.quant_config_file.clear();
    r.layout.always_write_index = false;
    r.layout.single_file = true;
    return;
  }
  // compressed-tensors: shards, an index and a config.json of its own, so never in place.
  std::map<std::string, SourcedValue> shard_options;
  if (!r.formats.empty() && r.formats.front().plugin == "safetensors_writer") shard_options = r.formats.front().options;
  shard_options.erase("file_suffix");
  r.formats = {PluginStep{"compressed_tensors_writer", shard_options}, PluginStep{"index_writer", {}}};
  r.layout.quant_config_file.clear();
  r.layout.always_write_index = false;
  r.layout.index_file = "model.safetensors.index.json";
  if (r.layout.policy == LayoutPolicy::InPlace) {
    std::string tag = r.layout.suffix;
    while (!tag.empty() && (tag.front() == '-' || tag.front() == '.')) tag.erase(tag.begin());
    r.layout.policy = LayoutPolicy::Subdirectory;
    r.layout.subdirectory = (tag.empty() ? std::string("quantized") : tag) + "_compressed_tensors";
    r.layout.suffix.clear();
  }
  r.layout.copy_model_files = true;
  r.layout.single_file = false;
}

Recipe conversion_recipe(const std::string& format, const std::string& float_type) {
  if (format != "gguf")
    throw Error("convert writes gguf only (--format " + format +
                "): an unquantized safetensors model is the model itself, and compressed-tensors is a quantized format");
  static const std::map<std::string, std::string> kTypeNames{
      {"f32", "F32"}, {"f16", "F16"}, {"bf16", "BF16"}, {"q8_0", "Q8_0"}, {"q6_k", "Q6_K"}};
  const auto type = kTypeNames.find(float_type);
  if (type == kTypeNames.end())
    throw Error("--type " + float_type + " is not a type convert writes (f32, f16, bf16, q8_0, q6_k)");
  Recipe r;
  r.name = "convert";
  r.description = "the model unquantized, as " + type->second + " GGUF";
  r.source_file = "quantforge convert";
  // The file name carries the type through the layout suffix, so the in-place run recognises (and
  // replaces) its own earlier file and nothing else: model-BF16.gguf.
  r.formats = {PluginStep{"gguf_writer", {{"float_type", {float_type, "--type"}}, {"file_suffix", {std::string(), "convert"}}}}};
  r.layout.policy = LayoutPolicy::InPlace;
  r.layout.suffix = "-" + type->second;
  r.layout.copy_model_files = false;
  r.layout.single_file = true;
  return r;
}

}  // namespace qf::recipe
