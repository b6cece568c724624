// A method plugin that quantizes layer 0 like RTN would (replacing weights), then fails on layer 1
// by returning an error (mode 1) or by letting an exception escape through the C ABI (mode 2).
#include <cstring>
#include <stdexcept>
#include <vector>

#include "quantforge/plugin.h"

namespace {

const qf_session_api* g_api = nullptr;

int32_t create(const qf_session_api* api, qf_session* s, void** out, qf_error*) {
  g_api = api;
  *out = s;
  return QF_OK;
}
int32_t requirements(void*, qf_method_requirements* r, qf_error*) {
  r->needs_calibration = false;
  r->num_samples = 0;
  r->seqlen = 0;
  return QF_OK;
}
int32_t quantize_layer(void* self, qf_layer* layer, uint32_t index, uint32_t, qf_error* err) {
  if (index == 0) {
    // Emit something so the failure happens after output has started.
    int32_t value = 1;
    int64_t shape[1] = {1};
    DLTensor t{};
    t.data = &value;
    t.device = {kDLCPU, 0};
    t.ndim = 1;
    t.dtype = {kDLInt, 32, 1};
    t.shape = shape;
    (void)layer;
    return g_api->emit_tensor(static_cast<qf_session*>(self), "marker.layer0", &t, err);
  }
#if QF_TEST_FAIL_MODE == 1
  err->code = QF_ERR_INVALID_ARGUMENT;
  std::strcpy(err->message, "layer 1 cannot be quantized");
  return QF_ERR_INVALID_ARGUMENT;
#else
  throw std::runtime_error("escaped exception");
#endif
}
int32_t finish(void*, qf_error*) { return QF_OK; }
void destroy(void*) {}

const qf_method_vtable kTable = {sizeof(qf_method_vtable), &create, &requirements, &quantize_layer, &finish, &destroy};
const void* get_interface(const char* id) { return std::strcmp(id, QF_METHOD_INTERFACE_ID) == 0 ? &kTable : nullptr; }
int32_t init(const qf_host_api*, qf_error*) { return QF_OK; }
void deinit() {}

#if QF_TEST_FAIL_MODE == 1
const char* const kName = "layerfail";
#else
const char* const kName = "layerthrow";
#endif

const qf_plugin_descriptor kDescriptor = {sizeof(qf_plugin_descriptor), QF_ABI_VERSION_MAJOR, 0, QF_KIND_METHOD,
                                          kName, "0.0.1", "fails on purpose", nullptr, 0, &init, &deinit,
                                          &get_interface};

}  // namespace

extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) { return &kDescriptor; }
