#include "host/host_api.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

namespace qf::host {
namespace {

void log_from_plugin(int32_t level, const char* msg) {
  const char* text = msg ? msg : "";
  switch (level) {
    case QF_LOG_TRACE: spdlog::trace("{}", text); break;
    case QF_LOG_DEBUG: spdlog::debug("{}", text); break;
    case QF_LOG_INFO: spdlog::info("{}", text); break;
    case QF_LOG_WARN: spdlog::warn("{}", text); break;
    default: spdlog::error("{}", text); break;
  }
}

void* alloc_for_plugin(size_t size, size_t alignment) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return nullptr;
  const size_t rounded = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

void free_for_plugin(void* p) { std::free(p); }

const void* no_service(const char*) { return nullptr; }

}  // namespace

const qf_host_api* host_api() {
  static const qf_host_api api = {sizeof(qf_host_api), QF_ABI_VERSION_MAJOR, QF_ABI_VERSION_MINOR,
                                  &log_from_plugin,    &alloc_for_plugin,    &free_for_plugin,
                                  &no_service};
  return &api;
}

}  // namespace qf::host
