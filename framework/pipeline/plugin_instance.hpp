#pragma once
// One live method or format object made by a plugin. Holds its Plugin (and so the library) until
// the object is destroyed; destruction goes through the plugin's own destroy.
#include <memory>

#include "host/plugin_registry.hpp"
#include "host/session.hpp"

namespace qf::pipeline {

class PluginInstance {
 public:
  // Creates the object; the session's options must already be resolved.
  PluginInstance(std::shared_ptr<const host::Plugin> plugin, std::unique_ptr<qf_session> session);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const host::Plugin& plugin() const { return *plugin_; }
  qf_session* session() const { return session_.get(); }
  void* object() const { return object_; }

 private:
  std::shared_ptr<const host::Plugin> plugin_;
  std::unique_ptr<qf_session> session_;
  void* object_ = nullptr;
};

}  // namespace qf::pipeline
