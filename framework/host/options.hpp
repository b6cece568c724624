#pragma once
// Typed plugin options: the recipe's (and CLI's) values checked against the plugin's declared
// schema, with the declared defaults for everything not given.
#include <map>
#include <string>
#include <variant>

#include "host/plugin_registry.hpp"

namespace qf::host {

using OptionValue = std::variant<bool, int64_t, double, std::string>;

struct GivenOption {
  OptionValue value;
  std::string origin;  // where the value came from, for messages ("configs/gptq.toml:12", "--bits")
};

// Throws qf::Error naming the option, its origin and the plugin for an unknown name or a value of
// the wrong type. Integers are accepted for float options.
std::map<std::string, OptionValue> resolve_options(const Plugin& plugin,
                                                   const std::map<std::string, GivenOption>& given);

// Parses a TOML literal as written in a descriptor's default ("4", "true", "\"gemm\"").
OptionValue parse_default(const OptionSpec& spec, const std::string& plugin_name);

std::string option_to_string(const OptionValue& v);

}  // namespace qf::host
