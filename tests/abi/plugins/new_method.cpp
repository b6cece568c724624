// A method plugin from the future: built against an ABI 1.(current+1) whose structs have grown at
// the end. Like the old fixture it rounds every weight to a grid of 1/step and emits it, and it
// checks on the way what a newer plugin must be able to rely on from this host:
//  - its larger descriptor, option structs (through get_option), vtable and requirements are read
//    correctly and never written beyond this host's sizes;
//  - the host fills only the part of a larger out-struct it knows (qf_linear_info,
//    qf_calibration_shape) and leaves the newer fields as the plugin initialised them;
//  - it logs with context (log_message) and uses create_scratch and calibration_shape.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "quantforge/plugin.h"
#include "quantforge/struct_copy.hpp"

namespace {

constexpr int64_t kUntouched = 0x5151515151515151;

struct FutureOption {
  qf_option_desc base;
  const char* unit;  // "added in the future"
};
struct FutureLinearInfo {
  qf_linear_info base;
  int64_t added;
};
struct FutureShape {
  qf_calibration_shape base;
  int64_t added;
};
struct FutureRequirements {
  qf_method_requirements base;
  int64_t added;
};
struct FutureVtable {
  qf_method_vtable base;
  int32_t (*added)(void*, qf_error*);
};
struct FutureDescriptor {
  qf_plugin_descriptor base;
  const char* added;
};

const qf_host_api* g_host = nullptr;

int32_t fail(qf_error* err, int32_t code, const std::string& message) {
  err->code = code;
  std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
  return code;
}

void log(const std::string& text) {
  if (QF_HAS_FIELD(g_host, qf_host_api, log_message)) g_host->log_message(g_host, QF_LOG_INFO, text.c_str());
}

struct Instance {
  const qf_session_api* api;
  qf_session* session;
  int64_t step = 0;
};

int32_t init(const qf_host_api* host, qf_error*) {
  g_host = host;
  return QF_OK;
}
void deinit() { g_host = nullptr; }

int32_t create(const qf_session_api* api, qf_session* session, void** out, qf_error* err) {
  auto* inst = new Instance{api, session};
  if (const int32_t st = api->get_int(session, "step", &inst->step, err); st != QF_OK) {
    delete inst;
    return st;
  }
  *out = inst;
  return QF_OK;
}

int32_t requirements(void*, qf_method_requirements* out, qf_error*) {
  FutureRequirements r{};
  r.base.struct_size = sizeof(r);
  r.base.needs_calibration = true;
  r.base.num_samples = 4;
  r.base.seqlen = 24;
  r.base.propagate_quantized = false;
  r.added = 42;
  // The host's struct is smaller: copy only what it has room for.
  qf::abi::copy_out(reinterpret_cast<FutureRequirements*>(out), r);
  return QF_OK;
}

int32_t quantize_layer(void* p, qf_layer* layer, uint32_t index, uint32_t count, qf_error* err) {
  auto* inst = static_cast<Instance*>(p);
  const qf_session_api* api = inst->api;
  log("context log line from layer " + std::to_string(index) + " of " + std::to_string(count));
  // From a thread of its own, where no host call is in progress: only the context names the plugin.
  std::thread worker([index] { log("log line from a plugin thread, layer " + std::to_string(index)); });
  worker.join();
  const auto* cal = static_cast<const qf_calibration_api*>(api->get_extension(inst->session, QF_CALIBRATION_EXTENSION_ID));
  if (!cal || !QF_HAS_FIELD(cal, qf_calibration_api, calibration_shape))
    return fail(err, QF_ERR_UNSUPPORTED, "this host has no calibration_shape");
  FutureShape shape{};
  shape.base.struct_size = sizeof(shape);
  shape.added = kUntouched;
  if (const int32_t st = cal->calibration_shape(layer, &shape.base, err); st != QF_OK) return st;
  if (shape.added != kUntouched) return fail(err, QF_ERR_INTERNAL, "the host overwrote a newer calibration_shape field");
  if (shape.base.block_length != 24 || shape.base.blocks != 4 || shape.base.tokens != 96)
    return fail(err, QF_ERR_INTERNAL, "calibration_shape says " + std::to_string(shape.base.blocks) + " x " +
                                          std::to_string(shape.base.block_length) + ", asked for 4 x 24");
  const uint32_t n = api->linear_count(layer);
  for (uint32_t i = 0; i < n; ++i) {
    FutureLinearInfo info{};
    info.base.struct_size = sizeof(info);
    info.added = kUntouched;
    if (const int32_t st = api->linear_info(layer, i, &info.base, err); st != QF_OK) return st;
    if (info.added != kUntouched) return fail(err, QF_ERR_INTERNAL, "the host overwrote a newer qf_linear_info field");
    if (info.base.struct_size != sizeof(info)) return fail(err, QF_ERR_INTERNAL, "the host changed struct_size");
    DLTensor w{};
    if (const int32_t st = api->read_weight(layer, info.base.short_name, &w, err); st != QF_OK) return st;
    const int64_t numel = info.base.out_features * info.base.in_features;
    std::vector<float> q(static_cast<size_t>(numel));
    const float* src = static_cast<const float*>(w.data);
    for (int64_t k = 0; k < numel; ++k)
      q[static_cast<size_t>(k)] = std::nearbyint(src[k] * static_cast<float>(inst->step)) / static_cast<float>(inst->step);
    int64_t dims[2] = {info.base.out_features, info.base.in_features};
    DLTensor t{q.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, dims, nullptr, 0};
    if (const int32_t st = api->write_weight(layer, info.base.short_name, &t, err); st != QF_OK) return st;
    const std::string name = std::string(info.base.name) + ".weight";
    if (const int32_t st = api->emit_tensor(inst->session, name.c_str(), &t, err); st != QF_OK) return st;
  }
  return QF_OK;
}

int32_t finish(void* p, qf_error* err) {
  auto* inst = static_cast<Instance*>(p);
  if (!QF_HAS_FIELD(inst->api, qf_session_api, create_scratch))
    return fail(err, QF_ERR_UNSUPPORTED, "this host has no create_scratch");
  char path[4096];
  if (const int32_t st = inst->api->create_scratch(inst->session, "notes", path, sizeof path, err); st != QF_OK)
    return st;
  if (FILE* f = std::fopen(path, "w")) {
    std::fputs("scratch data that must never be committed\n", f);
    std::fclose(f);
  } else {
    return fail(err, QF_ERR_IO, std::string("cannot write the scratch file ") + path);
  }
  return inst->api->set_quantization_config(inst->session, "{\"quant_method\": \"new_abi\"}", err);
}

void destroy(void* p) { delete static_cast<Instance*>(p); }

int32_t added_function(void*, qf_error* err) { return fail(err, QF_ERR_INTERNAL, "a host must not call this"); }

const FutureVtable kTable = {{sizeof(FutureVtable), &create, &requirements, &quantize_layer, &finish, &destroy},
                             &added_function};
const void* get_interface(const char* id) { return std::strcmp(id, QF_METHOD_INTERFACE_ID) == 0 ? &kTable : nullptr; }

const FutureOption kOptions[] = {
    {{sizeof(FutureOption), "step", QF_OPTION_INT, "16", "grid points per unit"}, "1/unit"},
    {{sizeof(FutureOption), "note", QF_OPTION_STRING, "\"none\"", "an unused string option"}, ""},
};

int32_t get_option(uint32_t index, qf_option_desc* out, qf_error* err) {
  if (index >= 2) return fail(err, QF_ERR_NOT_FOUND, "no option " + std::to_string(index));
  qf::abi::copy_out(reinterpret_cast<FutureOption*>(out), kOptions[index]);
  return QF_OK;
}

// Hosts before 1.2 read this array; a 1.2 host must use get_option, so the help texts differ and
// the test can tell which one it read.
const qf_option_desc_1_0 kLegacyOptions[] = {
    {QF_SIZE_OPTION_DESC_1_0, "step", QF_OPTION_INT, "16", "legacy array text: a 1.2 host must not show this"},
    {QF_SIZE_OPTION_DESC_1_0, "note", QF_OPTION_STRING, "\"none\"", "legacy array text: a 1.2 host must not show this"}};

const FutureDescriptor kDescriptor = {{sizeof(FutureDescriptor), QF_ABI_VERSION_MAJOR, QF_ABI_VERSION_MINOR + 1,
                                       QF_KIND_METHOD, "new_abi", "9.9.9", "a method plugin from a newer minor ABI",
                                       kLegacyOptions, 2, &init, &deinit, &get_interface, &get_option},
                                      "a field this host does not know"};

}  // namespace

extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) { return &kDescriptor.base; }
