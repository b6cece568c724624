#pragma once
// Finds, loads and validates plugin libraries (Boost.DLL), and keeps each library loaded until
// every object made from it is gone: a Plugin owns its library, instances own their Plugin.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "host/host_api.hpp"
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

// Why a library could not be used as a plugin; what() is "FILE: reason".
class PluginLoadError : public Error {
 public:
  PluginLoadError(const std::filesystem::path& file, const std::string& reason)
      : Error(file.string() + ": " + reason), file_(file), reason_(reason) {}
  const std::filesystem::path& file() const { return file_; }
  const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path file_;
  std::string reason_;
};

// A library in a plugin folder that failed to load: the other plugins still work.
struct PluginLoadFailure {
  std::filesystem::path file;
  std::string reason;  // one line, without the path
  std::string message() const { return file.string() + ": " + reason; }
};

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
  void deinit_quietly() noexcept;

  std::shared_ptr<boost::dll::shared_library> library_;
  const qf_plugin_descriptor* descriptor_;
  std::filesystem::path path_;
  std::string name_;
  std::unique_ptr<PluginHostApi> host_;  // the plugin's own host table, alive until after deinit
  std::vector<OptionSpec> options_;
  const void* interface_ = nullptr;
};

class PluginRegistry {
 public:
  // Where plugins are looked for, in order: explicit dirs (--plugin-dir), $QUANTFORGE_PLUGIN_PATH
  // (colon-separated), the build tree next to the executable, <prefix>/lib/quantforge/plugins.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& explicit_dirs);

  // Loads every lib*_plugin.so in each existing directory. A file that fails is recorded in
  // failures() and skipped, so one broken library does not take the working ones down with it.
  void load_directories(const std::vector<std::filesystem::path>& dirs);
  // Loads one library; throws PluginLoadError naming the file and what is wrong with it.
  std::shared_ptr<const Plugin> load_file(const std::filesystem::path& file);

  std::shared_ptr<const Plugin> find(const std::string& name) const;  // nullptr when absent
  std::vector<std::shared_ptr<const Plugin>> plugins() const;         // sorted by name
  const std::vector<PluginLoadFailure>& failures() const { return failures_; }  // in load order
  // The failure of the library that would have provided plugin `name` (lib<name>_plugin.so), or
  // nullptr: lets "not installed" say "its library failed to load" instead.
  const PluginLoadFailure* failure_for(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<const Plugin>> plugins_;
  std::vector<PluginLoadFailure> failures_;
};

}  // namespace qf::host
