// The alias table against the real method plugins: every name of every alias group, and every
// command-line method flag, lands on an option the plugin declares, with the type it declares.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "host/plugin_registry.hpp"
#include "recipe/method_options.hpp"
#include "recipe/quant_config.hpp"

namespace {

using qf::recipe::OptionValue;

struct Declared {
  std::set<std::string> names;
  std::map<std::string, qf_option_type> types;
};

Declared declared_by(const qf::host::PluginRegistry& registry, const std::string& method) {
  const auto plugin = registry.find(method);
  REQUIRE(plugin);
  Declared d;
  for (const auto& o : plugin->options()) {
    d.names.insert(o.name);
    d.types[o.name] = o.type;
  }
  return d;
}

// A value of the type a user gives for the setting `key` names.
OptionValue sample_value(const std::string& key) {
  return key == "zero_point" || key == "sym" ? OptionValue{true} : OptionValue{int64_t{4}};
}

qf_option_type type_of(const OptionValue& v) {
  return std::holds_alternative<bool>(v) ? QF_OPTION_BOOL : QF_OPTION_INT;
}

}  // namespace

TEST_CASE("every option alias maps to an option the method plugin declares", "[recipe][aliases]") {
  qf::host::PluginRegistry registry;
  registry.load_directories({QF_PLUGIN_BUILD_DIR});
  // What each bundled method calls the settings (the plugins' option tables).
  const std::map<std::string, std::map<std::string, std::string>> expected = {
      {"awq", {{"bits", "w_bit"}, {"group_size", "q_group_size"}, {"zero_point", "zero_point"}, {"sym", "zero_point"}}},
      {"gptq", {{"bits", "bits"}, {"group_size", "group_size"}, {"zero_point", "sym"}, {"sym", "sym"}}},
      {"rtn", {{"bits", "bits"}, {"group_size", "group_size"}, {"zero_point", "sym"}, {"sym", "sym"}}},
  };
  for (const auto& [method, settings] : expected) {
    const Declared d = declared_by(registry, method);
    for (const auto& group : qf::recipe::option_aliases()) {
      for (const auto& name : group) {
        INFO(method << ": " << name);
        const auto mapped = qf::recipe::translate_option(name, sample_value(group.front()), d.names);
        REQUIRE(mapped);
        CHECK(mapped->first == settings.at(group.front()));
        CHECK(d.types.at(mapped->first) == type_of(mapped->second));
      }
    }
    // The command-line flags go through the same table (recipe::resolve_method_options).
    for (const auto& [flag, option] : settings) {
      INFO(method << ": --" << flag);
      qf::recipe::Recipe r;
      r.method.plugin = method;
      qf::recipe::resolve_method_options(r, d.names, {{flag, sample_value(flag), "--" + flag}});
      REQUIRE(r.method.options.size() == 1);
      CHECK(r.method.options.begin()->first == option);
      CHECK(r.method.options.begin()->second.origin == "--" + flag);
    }
  }
}

TEST_CASE("option_names lists a key and its aliases, key first", "[recipe][aliases]") {
  CHECK(qf::recipe::option_names("bits") == std::vector<std::string>{"bits", "w_bit", "wbits"});
  CHECK(qf::recipe::option_names("w_bit") == std::vector<std::string>{"w_bit", "bits", "wbits"});
  CHECK(qf::recipe::option_names("group_size") == std::vector<std::string>{"group_size", "q_group_size"});
  CHECK(qf::recipe::option_names("damp_percent") == std::vector<std::string>{"damp_percent"});
}
