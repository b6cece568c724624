// `quantforge plugins list` and `quantforge plugins describe NAME`. A library that fails to load
// does not hide the others: list shows it apart with the reason (and still exits 0).
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "cli_common.hpp"
#include "common/error.hpp"

namespace qf::cli {

int run_plugins(const std::vector<std::string>& args) {
  po::options_description desc(
      "quantforge plugins (list | describe NAME) [options]\n"
      "list: the plugins found, then each library in a plugin folder that failed to load, with the reason\n"
      "(exit code 0 either way)\noptions");
  desc.add_options()("help,h", "this help")("action", po::value<std::string>(), "list or describe")(
      "name", po::value<std::string>(), "plugin name");
  add_plugin_options(desc);
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help") || !vm.count("action")) {
    std::cout << desc << "\n";
    return vm.count("help") ? kExitOk : kExitUsage;
  }
  host::PluginRegistry registry;
  load_plugins(vm, registry);
  const std::string action = vm["action"].as<std::string>();
  if (action == "list") {
    std::size_t width = 20;  // the name column fits the longest name (compressed_tensors_writer)
    for (const auto& p : registry.plugins()) width = std::max(width, p->name().size() + 2);
    for (const auto& p : registry.plugins())
      std::cout << std::left << std::setw(static_cast<int>(width)) << p->name() << std::setw(8)
                << host::kind_name(p->kind())
                << std::setw(10) << p->version() << p->description() << "\n";
    if (!registry.failures().empty()) {
      std::cout << "\nfailed to load (" << registry.failures().size() << "):\n";
      for (const auto& f : registry.failures()) std::cout << "  " << f.file.string() << "\n      " << f.reason << "\n";
    }
    return kExitOk;
  }
  if (action == "describe") {
    if (!vm.count("name")) throw UsageError("plugins describe needs a plugin name");
    report_plugin_failures(registry, {vm["name"].as<std::string>()});
    const auto p = registry.find(vm["name"].as<std::string>());
    if (!p) throw Error("no plugin named '" + vm["name"].as<std::string>() + "' (see `quantforge plugins list`)");
    std::cout << "name:        " << p->name() << "\nkind:        " << host::kind_name(p->kind())
              << "\nversion:     " << p->version() << "\nabi:         " << QF_ABI_VERSION_MAJOR << "." << p->abi_minor()
              << "\nlibrary:     " << p->path().string() << "\ndescription: " << p->description() << "\noptions:\n";
    for (const auto& o : p->options())
      std::cout << "  " << std::left << std::setw(20) << o.name << std::setw(8) << host::option_type_name(o.type)
                << "default " << std::setw(12) << o.default_text << o.help << "\n";
    return kExitOk;
  }
  throw UsageError("unknown plugins action '" + action + "' (use list or describe)");
}

}  // namespace qf::cli
