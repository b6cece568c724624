// A plugin written against the raw C ABI (no C++ wrapper), configurable into broken variants.
#include <cstring>
#include <stdexcept>

#include "quantforge/plugin.h"

#ifndef QF_TEST_ABI_MAJOR
#define QF_TEST_ABI_MAJOR QF_ABI_VERSION_MAJOR
#endif

namespace {

int32_t init(const qf_host_api*, qf_error* err) {
#ifdef QF_TEST_INIT_FAILS
  err->code = QF_ERR_INVALID_ARGUMENT;
  std::strcpy(err->message, "license file missing");
  return QF_ERR_INVALID_ARGUMENT;
#elif defined(QF_TEST_INIT_THROWS)
  (void)err;
  throw std::runtime_error("boom from init");  // a plugin bug: an exception crossing the C ABI
#else
  (void)err;
  return QF_OK;
#endif
}
void deinit() {}

int32_t create(const qf_session_api*, qf_session*, void** out, qf_error*) {
  *out = nullptr;
  return QF_OK;
}
int32_t add_tensor(void*, const char*, const DLTensor*, qf_error*) { return QF_OK; }
int32_t add_shard(void*, const char*, const char* const*, uint32_t, uint64_t, qf_error*) { return QF_OK; }
int32_t finish(void*, qf_error*) { return QF_OK; }
void destroy(void*) {}

const qf_format_vtable kTable = {sizeof(qf_format_vtable), &create, &add_tensor, &add_shard, &finish, &destroy};
const void* get_interface(const char* id) { return std::strcmp(id, QF_FORMAT_INTERFACE_ID) == 0 ? &kTable : nullptr; }

const qf_plugin_descriptor kDescriptor = {sizeof(qf_plugin_descriptor), QF_TEST_ABI_MAJOR, 7, QF_KIND_FORMAT,
                                          QF_TEST_NAME, "0.0.1", "test plugin", nullptr, 0, &init, &deinit,
                                          &get_interface};

}  // namespace

extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) { return &kDescriptor; }
