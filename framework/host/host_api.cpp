#include "host/host_api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "host/plugin_log.hpp"

namespace qf::host {
namespace {

thread_local const std::string* t_current_plugin = nullptr;

// ABI 1.0/1.1 logging: no context, so the plugin being called on this thread is named.
// Both log entry points are C functions: a failed log line (out of memory while formatting) is
// dropped rather than thrown across the boundary.
void log_without_context(int32_t level, const char* msg) {
  try {
    static const std::string unknown = "plugin";
    const std::string* name = PluginCallScope::current();
    log_for_plugin(name ? *name : unknown, level, msg);
  } catch (...) {
  }
}

void log_with_context(const qf_host_api* host, int32_t level, const char* msg) {
  if (host == nullptr || host->host_data == nullptr) return log_without_context(level, msg);
  try {
    log_for_plugin(static_cast<const PluginHostApi*>(host->host_data)->plugin_name(), level, msg);
  } catch (...) {
  }
}

// alignment: a power of two (0 means the default); smaller than a pointer is rounded up, since
// aligned_alloc wants at least that. NULL for a bad alignment or a size that would overflow.
void* alloc_for_plugin(size_t size, size_t alignment) {
  if (alignment == 0) alignment = alignof(std::max_align_t);
  if ((alignment & (alignment - 1)) != 0) return nullptr;
  alignment = std::max(alignment, sizeof(void*));
  if (size > std::numeric_limits<size_t>::max() - alignment) return nullptr;
  const size_t rounded = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

void free_for_plugin(void* p) { std::free(p); }

const void* no_service(const char*) { return nullptr; }

}  // namespace

PluginCallScope::PluginCallScope(const std::string& plugin_name) : previous_(t_current_plugin) {
  t_current_plugin = &plugin_name;
}
PluginCallScope::~PluginCallScope() { t_current_plugin = previous_; }
const std::string* PluginCallScope::current() { return t_current_plugin; }

void log_for_plugin(const std::string& plugin_name, int level, const char* message) {
  const char* text = message ? message : "";
  switch (level) {
    case QF_LOG_TRACE: spdlog::trace("{}: {}", plugin_name, text); break;
    case QF_LOG_DEBUG: spdlog::debug("{}: {}", plugin_name, text); break;
    case QF_LOG_INFO: spdlog::info("{}: {}", plugin_name, text); break;
    case QF_LOG_WARN: spdlog::warn("{}: {}", plugin_name, text); break;
    default: spdlog::error("{}: {}", plugin_name, text); break;
  }
}

PluginHostApi::PluginHostApi(std::string plugin_name) : name_(std::move(plugin_name)) {
  table_.struct_size = sizeof(qf_host_api);
  table_.abi_major = QF_ABI_VERSION_MAJOR;
  table_.abi_minor = QF_ABI_VERSION_MINOR;
  table_.log = &log_without_context;
  table_.alloc = &alloc_for_plugin;
  table_.free = &free_for_plugin;
  table_.get_service = &no_service;
  table_.host_data = this;
  table_.log_message = &log_with_context;
}

}  // namespace qf::host
