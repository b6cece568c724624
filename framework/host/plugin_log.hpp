#pragma once
// Which plugin a log line comes from. Plugins from ABI 1.2 on log through their own host table
// (qf_host_api.log_message with host_data); older plugins call a context-free log, so the host
// remembers which plugin it is calling on this thread and names that one.
#include <string>

namespace qf::host {

class PluginCallScope {
 public:
  explicit PluginCallScope(const std::string& plugin_name);  // kept by reference: must outlive the scope
  explicit PluginCallScope(std::string&&) = delete;
  ~PluginCallScope();
  PluginCallScope(const PluginCallScope&) = delete;
  PluginCallScope& operator=(const PluginCallScope&) = delete;

  // The plugin the host is calling on this thread, or nullptr.
  static const std::string* current();

 private:
  const std::string* previous_;
};

// Writes a plugin's log line with its name in front, at the ABI's level (qf_log_level).
void log_for_plugin(const std::string& plugin_name, int level, const char* message);

}  // namespace qf::host
