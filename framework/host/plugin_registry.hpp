#pragma once
// Finds, loads and validates plugin libraries (Boost.DLL), and keeps each library loaded until
// every object made from it is gone: a Plugin owns its library, instances own their Plugin.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quantforge/plugin.h"

namespace boost::dll {
class shared_library;
}

namespace qf::host {

struct OptionSpec {
  std::string name;
  qf_option_type type;
  std::string default_text;  // TOML literal
  std::string help;
};

const char* kind_name(int32_t kind);       // "method" / "format"
const char* option_type_name(int32_t type);  // "bool", "int", "float", "string"

class Plugin {
 public:
  Plugin(std::shared_ptr<boost::dll::shared_library> library, const qf_plugin_descriptor* descriptor,
         std::filesystem::path path);
  ~Plugin();  // calls deinit, then lets the library go
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const std::string& name() const { return name_; }
  int32_t kind() const { return descriptor_->kind; }
  std::string version() const;
  std::string description() const;
  const std::vector<OptionSpec>& options() const { return options_; }
  const OptionSpec* option(const std::string& name) const;
  const std::filesystem::path& path() const { return path_; }
  uint32_t abi_minor() const { return descriptor_->abi_minor; }

  const qf_method_vtable* method() const;  // nullptr unless kind == method
  const qf_format_vtable* format() const;  // nullptr unless kind == format

 private:
  std::shared_ptr<boost::dll::shared_library> library_;
  const qf_plugin_descriptor* descriptor_;
  std::filesystem::path path_;
  std::string name_;
  std::vector<OptionSpec> options_;
  const void* interface_ = nullptr;
};

class PluginRegistry {
 public:
  // Where plugins are looked for, in order: explicit dirs (--plugin-dir), $QUANTFORGE_PLUGIN_PATH
  // (colon-separated), the build tree next to the executable, <prefix>/lib/quantforge/plugins.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& explicit_dirs);

  // Loads every lib*_plugin.so in each existing directory. Throws qf::Error on the first bad plugin.
  void load_directories(const std::vector<std::filesystem::path>& dirs);
  // Loads one library; throws qf::Error naming the file and what is wrong with it.
  std::shared_ptr<const Plugin> load_file(const std::filesystem::path& file);

  std::shared_ptr<const Plugin> find(const std::string& name) const;  // nullptr when absent
  std::vector<std::shared_ptr<const Plugin>> plugins() const;         // sorted by name

 private:
  std::map<std::string, std::shared_ptr<const Plugin>> plugins_;
};

}  // namespace qf::host
