// `quantforge recipe show [--awq | --gptq | --recipe FILE] [overrides]`
#include <iostream>

#include "cli_common.hpp"

namespace qf::cli {

int run_recipe(const std::vector<std::string>& args) {
  po::options_description desc("quantforge recipe show [--awq | --gptq | --recipe FILE] [overrides]");
  desc.add_options()("help,h", "this help")("action", po::value<std::string>(), "show");
  add_recipe_options(desc);
  add_plugin_options(desc);
  po::positional_options_description pos;
  pos.add("action", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("action")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  if (vm["action"].as<std::string>() != "show") throw UsageError("unknown recipe action (use show)");
  host::PluginRegistry registry;
  load_plugins(vm, registry);
  std::cout << recipe::to_toml(resolve_recipe(vm, registry));
  return kExitOk;
}

}  // namespace qf::cli
