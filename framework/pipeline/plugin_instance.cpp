#include "pipeline/plugin_instance.hpp"

#include "common/error.hpp"
#include "host/plugin_log.hpp"

namespace qf::pipeline {

PluginInstance::PluginInstance(std::shared_ptr<const host::Plugin> plugin, std::unique_ptr<qf_session> session)
    : plugin_(std::move(plugin)), session_(std::move(session)) {
  host::call_plugin(plugin_->name(), "create", [&](qf_error* err) {
    if (const auto* m = plugin_->method()) return m->create(host::session_api(), session_.get(), &object_, err);
    return plugin_->format()->create(host::session_api(), session_.get(), &object_, err);
  });
}

PluginInstance::~PluginInstance() {
  if (object_ == nullptr) return;
  try {
    const host::PluginCallScope scope(plugin_->name());  // its old-style log lines name it
    if (const auto* m = plugin_->method()) m->destroy(object_);
    else plugin_->format()->destroy(object_);
  } catch (...) {
    // destroy must not fail; a plugin that throws here is ignored rather than crashing the host.
  }
}

}  // namespace qf::pipeline
