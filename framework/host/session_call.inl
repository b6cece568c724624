#pragma once
#include "common/error.hpp"
#include "host/plugin_log.hpp"
#include "host/service_guard.hpp"

namespace qf::host {

template <class Call>
void call_plugin(const std::string& plugin_name, const std::string& what, Call&& call) {
  qf_error err{};
  int32_t status = QF_ERR_INTERNAL;
  {
    const PluginCallScope scope(plugin_name);  // names the plugin in logs from pre-1.2 plugins
    try {
      status = call(&err);
    } catch (const std::exception& e) {
      throw InternalError("plugin '" + plugin_name + "' threw an exception across the C ABI during " + what +
                          " (a bug in the plugin): " + user_message(e));
    } catch (...) {
      throw InternalError("plugin '" + plugin_name + "' threw an exception across the C ABI during " + what +
                          " (a bug in the plugin)");
    }
  }
  if (status == QF_OK) return;
  err.message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';  // never trust a plugin to terminate it
  const std::string msg = err.message[0] ? std::string(err.message) : "no message";
  switch (status) {
    case QF_ERR_CANCELLED: throw Cancelled("cancelled during " + what);
    case QF_ERR_INTERNAL:
      throw_status(status, "plugin '" + plugin_name + "' stopped on an internal error (a bug) during " + what +
                               ": " + msg);
    case QF_ERR_OUT_OF_MEMORY:
      throw_status(status, "plugin '" + plugin_name + "' ran out of memory during " + what + ": " + msg);
    default: throw_status(status, "plugin '" + plugin_name + "' failed during " + what + ": " + msg);
  }
}

}  // namespace qf::host
