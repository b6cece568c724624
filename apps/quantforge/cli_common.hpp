#pragma once
// What the subcommands share: plugin discovery, recipe selection with CLI overrides, exit codes.
#include <boost/program_options.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "host/plugin_registry.hpp"
#include "recipe/recipe.hpp"

namespace qf::cli {

namespace po = boost::program_options;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // user error or failed run: one clear message
constexpr int kExitUsage = 2;  // bad command line

// Thrown for command-line mistakes (exit code 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --plugin-dir (repeatable) and the registry loaded from the full search path. A library that
// fails to load is recorded in the registry, not thrown: see report_plugin_failures.
// Every command loads its plugins before it writes anything, so this is also where options the
// commands share are checked (--threads must not be negative: UsageError).
void add_plugin_options(po::options_description& desc);
void load_plugins(const po::variables_map& vm, host::PluginRegistry& registry);
// A plugin in `needed` that is not loaded because its library (lib<name>_plugin.so) failed: a
// qf::Error naming the library and why. Otherwise one warning per library that failed to load.
void report_plugin_failures(const host::PluginRegistry& registry, const std::vector<std::string>& needed);

// One warning line on stderr: "quantforge: warning: ...".
void warn(const std::string& message);

// --awq | --gptq | --recipe FILE and the overrides (--bits, --group_size, --zero_point,
// --quant_config, --dataset, --num_samples, --seqlen, --seed, --damp_percent, --desc_act, --sym).
void add_recipe_options(po::options_description& desc);
// The selected recipe with every override applied. Overrides are mapped onto the names the method
// plugin declares when it is installed (w_bit for --bits with AWQ, ...). Reports the plugin
// libraries that failed to load (an error when the recipe names one of their plugins); warns
// about --quant_config keys the method does not read.
recipe::Recipe resolve_recipe(const po::variables_map& vm, const host::PluginRegistry& registry);

std::vector<std::filesystem::path> recipe_search_dirs();

// Parses `SUBCOMMAND MODEL [options]` (MODEL positional, option "model" in `desc`). Prints the help
// and returns false for --help; UsageError(`missing_model`) when MODEL is absent.
bool parse_model_command(const std::vector<std::string>& args, const po::options_description& desc,
                         po::variables_map& vm, const std::string& missing_model);

int run_quantize(const std::vector<std::string>& args);
int run_convert(const std::vector<std::string>& args);
int run_plugins(const std::vector<std::string>& args);
int run_recipe(const std::vector<std::string>& args);
int run_eval(const std::vector<std::string>& args);

}  // namespace qf::cli
