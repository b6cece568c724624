#include "recipe/method_options.hpp"

#include "common/error.hpp"
#include "recipe/overrides.hpp"
#include "recipe/quant_config.hpp"

namespace qf::recipe {

void resolve_method_options(Recipe& recipe, const std::set<std::string>& declared,
                            const std::vector<MethodOverride>& overrides) {
  for (const MethodOverride& o : overrides) {
    if (declared.empty()) {
      set_method_option(recipe, o.key, o.value, o.origin);
      continue;
    }
    const auto mapped = translate_option(o.key, o.value, declared);
    if (!mapped)
      throw Error(o.origin + ": method '" + recipe.method.plugin + "' has no option matching '" + o.key + "'");
    set_method_option(recipe, mapped->first, mapped->second, o.origin);
  }
}

std::vector<std::string> option_names(const std::string& key) {
  std::vector<std::string> names{key};
  if (const auto* group = alias_group(key))
    for (const auto& name : *group)
      if (name != key) names.push_back(name);
  return names;
}

}  // namespace qf::recipe
