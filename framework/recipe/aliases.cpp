// Option aliases: the same setting under the names different tools use.
#include "common/error.hpp"
#include "recipe/quant_config.hpp"

namespace qf::recipe {

const std::vector<std::vector<std::string>>& option_aliases() {
  static const std::vector<std::vector<std::string>> groups = {
      {"bits", "w_bit", "wbits"},         // GPTQ/transformers, AutoAWQ, GPTQ paper CLI
      {"group_size", "q_group_size"},     // GPTQ/transformers, AutoAWQ
      {"zero_point"},                     // AutoAWQ; negation of GPTQ's sym (translate_option)
  };
  return groups;
}

const std::vector<std::string>* alias_group(const std::string& key) {
  for (const auto& group : option_aliases())
    for (const auto& name : group)
      if (name == key) return &group;
  return nullptr;
}

std::optional<std::pair<std::string, OptionValue>> translate_option(const std::string& key, const OptionValue& v,
                                                                    const std::set<std::string>& declared_options) {
  if (declared_options.count(key) != 0) return std::make_pair(key, v);
  if (const auto* group = alias_group(key))
    for (const auto& name : *group)
      if (declared_options.count(name) != 0) return std::make_pair(name, v);
  for (const auto& [from, to] : {std::pair<const char*, const char*>{"zero_point", "sym"}, {"sym", "zero_point"}}) {
    if (key != from || declared_options.count(to) == 0) continue;
    const bool* b = std::get_if<bool>(&v);
    if (b == nullptr)
      throw qf::Error(std::string("option '") + from + "' must be a boolean to translate to '" + to + "', got " +
                      option_type_name(v));
    return std::make_pair(std::string(to), OptionValue{!*b});
  }
  return std::nullopt;
}

const SourcedValue* find_option(const std::map<std::string, SourcedValue>& options, const std::string& key) {
  if (auto it = options.find(key); it != options.end()) return &it->second;
  if (const auto* group = alias_group(key))
    for (const auto& name : *group)
      if (auto it = options.find(name); it != options.end()) return &it->second;
  return nullptr;
}

}  // namespace qf::recipe
