#pragma once
// Recipe model: which method plugin runs with which options, the format plugin chain, the output
// layout, calibration settings and the compute dtype. Parsed strictly from TOML (TOML++): every
// unknown key, wrong type or bad enum value is a qf::Error naming the file, line and key path.
// No LibTorch here.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace qf::recipe {

// Scalar option value. Same alternatives as qf::host::OptionValue, so values move across as is.
using OptionValue = std::variant<bool, int64_t, double, std::string>;

// A value and where it came from, for messages: "configs/gptq.toml:12", "--bits",
// "quant_config.json: w_bit". Equality compares the value only (origin is provenance).
struct SourcedValue {
  OptionValue value;
  std::string origin;
};
bool operator==(const SourcedValue& a, const SourcedValue& b);
bool operator!=(const SourcedValue& a, const SourcedValue& b);

struct PluginStep {
  std::string plugin;
  std::map<std::string, SourcedValue> options;
};
bool operator==(const PluginStep& a, const PluginStep& b);
bool operator!=(const PluginStep& a, const PluginStep& b);

enum class LayoutPolicy { InPlace, Subdirectory, Standalone };
const char* layout_policy_name(LayoutPolicy p);  // "in_place", "subdirectory", "standalone"

struct Layout {
  LayoutPolicy policy = LayoutPolicy::Standalone;
  // Appended to weight file stems: "-AWQ" -> model-AWQ.safetensors, model-00001-of-00002-AWQ.safetensors.
  // Required (non-empty) for in_place, so the model's own files are never overwritten.
  std::string suffix;
  // Subdirectory of the model dir for policy subdirectory, e.g. "GPTQ_{bits}bit_CPU"; placeholders
  // {bits} and {group_size} are expanded by the host (expand_placeholders below). Empty otherwise.
  std::string subdirectory;
  // Extra quantization config file written beside the weights ("quant_config-AWQ.json",
  // "quantize_config.json"); empty: none.
  std::string quant_config_file;
  // Index file name; default "model" + suffix + ".safetensors.index.json".
  std::string index_file;
  // Write the index even when there is a single shard (the AWQ seed convention).
  bool always_write_index = false;
  // Copy config.json (with quantization_config), tokenizer*, generation_config.json,
  // special_tokens_map.json... into the output. Default true except for in_place, where it is an error.
  bool copy_model_files = true;
  // Set by --format gguf (not a recipe key): the output is one self-contained file, so no layout
  // copies model files beside it.
  bool single_file = false;
};
bool operator==(const Layout& a, const Layout& b);
bool operator!=(const Layout& a, const Layout& b);

// Defaults (when a [calibration] table is present but a key is not): dataset "wikitext2",
// num_samples 128, seqlen 2048, seed 0, dataset_path "" (host's bundled/cached copy).
struct Calibration {
  std::string dataset = "wikitext2";
  int64_t num_samples = 128;
  int64_t seqlen = 2048;
  int64_t seed = 0;
  std::string dataset_path;
  // Used, with a warning in the log, only when `dataset` is not found and the user did not name a
  // dataset on the command line (AWQ: pileval when the user has it, else the bundled text).
  std::string fallback_dataset;
};
bool operator==(const Calibration& a, const Calibration& b);
bool operator!=(const Calibration& a, const Calibration& b);

struct Recipe {
  std::string name;         // default: the source file's stem
  std::string description;
  std::string source_file;  // the source name given to the parser (not part of equality)
  PluginStep method;
  std::vector<PluginStep> formats;  // at least one, run in order
  Layout layout;                    // no [layout] table: standalone
  std::optional<Calibration> calibration;
  std::string compute_dtype = "auto";  // "auto" | "fp32" | "bf16"
  // Set by the CLI when --dataset was given: calibration.fallback_dataset then never applies.
  bool dataset_from_cli = false;
  // The calibration flags given on the command line ("--dataset", "--seqlen", ...), so a run whose
  // method reads no calibration data can say which of them it ignores.
  std::vector<std::string> calibration_flags;
};
// Equal when they would produce the same output: all fields except source_file and the origins.
bool operator==(const Recipe& a, const Recipe& b);
bool operator!=(const Recipe& a, const Recipe& b);

// Reads and parses a recipe; the path as given (generic form) is used in messages.
Recipe load_recipe_file(const std::filesystem::path& path);
// Parses recipe text; source_name prefixes every message ("configs/gptq.toml:7: ...").
Recipe parse_recipe(std::string_view toml_text, const std::string& source_name);
// The resolved recipe as TOML, with each option's origin as a trailing comment.
// parse_recipe(to_toml(r), ...) == r.
std::string to_toml(const Recipe& recipe);

// Re-checks a recipe built or modified in code (same rules as the parser, messages name
// recipe.source_file). parse_recipe already calls it.
void validate(const Recipe& recipe);

// --format NAME: replaces the recipe's format chain with the chain of an output format and adapts
// the layout: "safetensors" (the recipe's own chain when it writes safetensors), "gguf" (one file,
// nothing copied beside it), "compressed-tensors" (shards + index + its own config.json; an in-place
// recipe writes into a subdirectory instead, "<suffix>_compressed_tensors").
void apply_output_format(Recipe& recipe, const std::string& format);
const std::vector<std::string>& output_format_names();

// `quantforge convert`: a run without a method that writes the model unquantized as GGUF, every
// matrix as `float_type` (f32, f16, bf16, q8_0 or q6_k; norms and biases stay F32), in place as
// model-<TYPE>.gguf (or model-<TYPE>.gguf in --output). Unknown format or type: qf::Error.
Recipe conversion_recipe(const std::string& format, const std::string& float_type);

// TOML type names of the alternatives: "boolean", "integer", "float", "string".
const char* option_type_name(const OptionValue& v);
// Value as TOML literal: true, 8, 0.1, "gemm".
std::string option_to_toml(const OptionValue& v);

// Expands {bits} / {group_size} in a layout pattern from the method options (alias-aware:
// w_bit, wbits, q_group_size count too). Unknown placeholder or missing value: qf::Error.
std::string expand_placeholders(const std::string& pattern, const Recipe& recipe);

}  // namespace qf::recipe
