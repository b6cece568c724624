#pragma once
// `--quant_config FILE`: AutoAWQ / GPTQ quantization config files (JSON or TOML), read as flat
// scalar options; and the option alias table that maps user-facing names onto a plugin's names.
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "recipe/recipe.hpp"

namespace qf::recipe {

// Reads FILE as JSON (".json", or content starting with '{') or TOML (".toml", or otherwise) and
// returns its top-level scalar keys, e.g. AutoAWQ w_bit, q_group_size, zero_point, version; GPTQ
// bits, group_size, desc_act, sym, damp_percent, static_groups, true_sequential, checkpoint_format.
// Origins: "FILE: key" (JSON), "FILE:LINE: key" (TOML).
//  - Nested tables, arrays and nulls are SKIPPED, each with a line in *warnings (if given); they are
//    not errors because real files carry them (modules_to_not_convert, meta.quantizer, ...).
//  - Two exceptions, so real files work: a top-level "quantization_config" table (an HF config.json)
//    is read instead of the top level; scalars of a top-level "meta" table (GPTQModel keeps
//    damp_percent, static_groups, true_sequential there) are lifted when the top level lacks them.
//  - "version" is lower-cased, as AutoAWQ's from_dict does ("GEMM" -> "gemm").
// Unreadable or unparsable file, or a top level that is not an object/table: qf::Error naming it
// (with line:column for syntax errors).
std::map<std::string, SourcedValue> load_quant_config(const std::filesystem::path& path,
                                                      std::vector<std::string>* warnings = nullptr);

// The same file with what load_quant_config leaves out, so every key can be accounted for.
struct QuantConfigFile {
  std::string file;                              // the path as given (generic form), for messages
  std::map<std::string, SourcedValue> options;   // = load_quant_config's result
  std::set<std::string> from_meta;               // keys of `options` lifted from the "meta" table
  // Keys whose value is not a scalar -> its type ("null", "array", "object"/"table"); keys inside
  // "meta" as "meta.KEY". The "meta" table itself is not listed.
  std::map<std::string, std::string> non_scalars;
  std::vector<std::string> notes;                // = load_quant_config's warnings
};
QuantConfigFile read_quant_config(const std::filesystem::path& path);

// What apply_quant_config did with each key of a file.
struct QuantConfigUse {
  std::vector<std::string> used;     // keys that set a method option
  std::vector<std::string> ignored;  // keys the method does not read, e.g. "quant_method", "meta.uri",
                                     // "modules_to_not_convert (null)", "sym (zero_point wins)"
};

// Sets recipe.method's options from a quant_config file, mapping each key onto the method's
// declared options with translate_option. A key the method declares under its own name wins over
// one that only translates to it (AWQ: zero_point over sym).
// Ignored, not errors: keys that AutoAWQ, GPTQ tools and transformers write but the method does
// not read (quant_method, checkpoint_format, desc_act for AWQ, ...), everything under "meta", and
// non-scalar values. Throws qf::Error naming the file, and leaves the recipe as it was, when a key
// is none of these (naming every such key, the closest known name, and the keys the method reads),
// or when no key sets an option.
QuantConfigUse apply_quant_config(Recipe& recipe, const QuantConfigFile& qc, const std::set<std::string>& declared);

// Keys AutoAWQ, AutoGPTQ, GPTQModel, optimum and transformers write into quantization configs.
const std::set<std::string>& known_tool_keys();

// Groups of interchangeable option names, preferred (user-facing) name first:
// {bits, w_bit, wbits}, {group_size, q_group_size}, {zero_point}.
// zero_point and sym are related by negation (zero_point=true <=> sym=false); see translate_option.
const std::vector<std::vector<std::string>>& option_aliases();

// The alias group containing key, or nullptr.
const std::vector<std::string>* alias_group(const std::string& key);

// Maps (key, value) onto a declared option: key itself if declared, else the first declared name
// of its alias group, else zero_point <-> sym by negating the boolean (a non-boolean value there
// is a qf::Error). nullopt when nothing declared matches.
std::optional<std::pair<std::string, OptionValue>> translate_option(const std::string& key, const OptionValue& v,
                                                                    const std::set<std::string>& declared_options);

// The option named key or any of its aliases (key itself first), or nullptr.
const SourcedValue* find_option(const std::map<std::string, SourcedValue>& options, const std::string& key);

}  // namespace qf::recipe
