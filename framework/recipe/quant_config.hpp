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
