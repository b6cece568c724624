#pragma once
#include "common/error.hpp"

namespace qf::host {

template <class Call>
void call_plugin(const std::string& plugin_name, const std::string& what, Call&& call) {
  qf_error err{};
  int32_t status = QF_ERR_INTERNAL;
  try {
    status = call(&err);
  } catch (const std::exception& e) {
    throw Error("plugin '" + plugin_name + "' threw an exception across the C ABI during " + what +
                " (a bug in the plugin): " + e.what());
  } catch (...) {
    throw Error("plugin '" + plugin_name + "' threw an exception across the C ABI during " + what +
                " (a bug in the plugin)");
  }
  if (status == QF_ERR_CANCELLED) throw Error("cancelled during " + what);
  err.message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';  // never trust a plugin to terminate it
  if (status != QF_OK) {
    const std::string msg = err.message[0] ? std::string(err.message) : "no message";
    throw Error("plugin '" + plugin_name + "' failed during " + what + ": " + msg);
  }
}

}  // namespace qf::host
