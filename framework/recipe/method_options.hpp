#pragma once
// Method options given under any of their names (command-line flags, quant_config keys, layout
// placeholders): the one place that maps them onto what the method plugin declares, through the
// alias table of aliases.cpp (option_aliases, translate_option).
#include <set>
#include <string>
#include <vector>

#include "recipe/recipe.hpp"

namespace qf::recipe {

// One setting from outside the recipe file: `key` as the user wrote it ("bits"), its value and
// where it came from ("--bits").
struct MethodOverride {
  std::string key;
  OptionValue value;
  std::string origin;
};

// Applies the overrides in order, each under the name the method declares (w_bit for bits with
// AWQ, sym = !zero_point with GPTQ, ...). `declared` empty (the plugin is not installed): the key
// is set as given and the host checks it later. A key that matches no declared option is a
// qf::Error naming the origin and the method.
void resolve_method_options(Recipe& recipe, const std::set<std::string>& declared,
                            const std::vector<MethodOverride>& overrides);

// key and its aliases, key first ({"bits", "w_bit", "wbits"} for "bits"; {key} when it has none).
std::vector<std::string> option_names(const std::string& key);

}  // namespace qf::recipe
