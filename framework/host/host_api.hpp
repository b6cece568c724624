#pragma once
// The services every plugin receives at init (logging, aligned allocation, service lookup). Each
// plugin gets its own table whose host_data names it, so its log lines carry its name.
#include <memory>
#include <string>

#include "quantforge/plugin.h"

namespace qf::host {

class PluginHostApi {
 public:
  explicit PluginHostApi(std::string plugin_name);
  PluginHostApi(const PluginHostApi&) = delete;
  PluginHostApi& operator=(const PluginHostApi&) = delete;

  // Valid while this object lives (the plugin's whole life, init to deinit).
  const qf_host_api* table() const { return &table_; }
  const std::string& plugin_name() const { return name_; }

 private:
  std::string name_;
  qf_host_api table_{};
};

}  // namespace qf::host
