/* A method plugin as it was written against ABI 1.0, in C, with its own copies of the 1.0 structs
 * (what an old binary carries). It rounds every weight to a grid of 1/step and emits it as fp32.
 * Along the way it exercises what must keep working for such a plugin on a newer host:
 *  - a 1.0-size descriptor (no get_option) with a bare option array;
 *  - out-structs of their 1.0 size (48-byte qf_linear_info, 40-byte qf_scaling_group) with canary
 *    bytes behind them that the host must not touch, and a too-small one the host must refuse;
 *  - context-free logging, ".scratch/" files through create_output, a 1.0-size calibration table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantforge/plugin.h"

#define CANARY 0xAB

typedef struct {
  uint32_t struct_size;
  const char* name;
  int32_t type;
  const char *default_value, *help;
} option_1_0;

typedef struct {
  uint32_t struct_size;
  uint32_t abi_major, abi_minor;
  int32_t kind;
  const char *name, *version, *description;
  const option_1_0* options;
  uint32_t option_count;
  int32_t (*init)(const qf_host_api*, qf_error*);
  void (*deinit)(void);
  const void* (*get_interface)(const char*);
} descriptor_1_0;

typedef struct {
  const qf_session_api* api;
  qf_session* session;
  int64_t step;
} instance;

static const qf_host_api* g_host;

static int32_t fail(qf_error* err, int32_t code, const char* message) {
  err->code = code;
  snprintf(err->message, sizeof err->message, "%s", message);
  return code;
}

static int canary_intact(const unsigned char* bytes, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (bytes[i] != CANARY) return 0;
  return 1;
}

static int32_t init(const qf_host_api* host, qf_error* err) {
  (void)err;
  g_host = host;
  return QF_OK;
}
static void deinit(void) { g_host = NULL; }

static int32_t create(const qf_session_api* api, qf_session* session, void** out, qf_error* err) {
  instance* inst = calloc(1, sizeof *inst);
  if (!inst) return fail(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
  inst->api = api;
  inst->session = session;
  int32_t st = api->get_int(session, "step", &inst->step, err);
  if (st != QF_OK) {
    free(inst);
    return st;
  }
  *out = inst;
  return QF_OK;
}

static int32_t requirements(void* p, qf_method_requirements* out, qf_error* err) {
  (void)p;
  (void)err;
  out->needs_calibration = true; /* 1.0 fields only */
  out->num_samples = 4;
  out->seqlen = 32;
  out->propagate_quantized = true;
  return QF_OK;
}

static int32_t check_calibration(instance* inst, qf_layer* layer, qf_error* err) {
  const qf_calibration_api* cal = inst->api->get_extension(inst->session, QF_CALIBRATION_EXTENSION_ID);
  if (!cal || cal->struct_size < 56) return fail(err, QF_ERR_UNSUPPORTED, "no calibration service");
  /* A scaling group struct of the 1.0 size (40 bytes), in a larger buffer. */
  _Alignas(8) unsigned char group[64];
  memset(group, CANARY, sizeof group);
  uint32_t small = 40;
  memcpy(group, &small, sizeof small);
  if (cal->scaling_group_count(layer) == 0) return fail(err, QF_ERR_INTERNAL, "no scaling groups");
  int32_t st = cal->scaling_group(layer, 0, (qf_scaling_group*)group, err);
  if (st != QF_OK) return st;
  if (!canary_intact(group, 40, sizeof group))
    return fail(err, QF_ERR_INTERNAL, "the host wrote past a 40-byte qf_scaling_group");
  const qf_scaling_group* g = (const qf_scaling_group*)group;
  if (g->prev_op == NULL || g->linear_count == 0) return fail(err, QF_ERR_INTERNAL, "scaling group not filled");
  return QF_OK;
}

/* A struct_size below the first version's is a plugin bug: the host must refuse it, clearly, and
 * write nothing into the struct. */
static int32_t check_too_small_refused(const qf_session_api* api, qf_layer* layer, qf_error* err) {
  _Alignas(8) unsigned char bytes[64];
  memset(bytes, CANARY, sizeof bytes);
  uint32_t tiny = 24;
  memcpy(bytes, &tiny, sizeof tiny);
  qf_error probe = {0, {0}};
  const int32_t st = api->linear_info(layer, 0, (qf_linear_info*)bytes, &probe);
  if (st != QF_ERR_INVALID_ARGUMENT || strstr(probe.message, "struct_size is 24") == NULL)
    return fail(err, QF_ERR_INTERNAL, "the host accepted a 24-byte qf_linear_info");
  if (!canary_intact(bytes, sizeof tiny, sizeof bytes))
    return fail(err, QF_ERR_INTERNAL, "the host wrote into a refused qf_linear_info");
  return QF_OK;
}

static int32_t quantize_layer(void* p, qf_layer* layer, uint32_t index, uint32_t count, qf_error* err) {
  instance* inst = p;
  const qf_session_api* api = inst->api;
  char line[128];
  snprintf(line, sizeof line, "old-style log line from layer %u of %u", index, count);
  g_host->log(QF_LOG_INFO, line);
  int32_t st = check_calibration(inst, layer, err);
  if (st != QF_OK) return st;
  st = check_too_small_refused(api, layer, err);
  if (st != QF_OK) return st;
  uint32_t n = api->linear_count(layer);
  for (uint32_t i = 0; i < n; ++i) {
    _Alignas(8) unsigned char info_bytes[96];
    memset(info_bytes, CANARY, sizeof info_bytes);
    uint32_t small = 48; /* the 1.0 size */
    memcpy(info_bytes, &small, sizeof small);
    st = api->linear_info(layer, i, (qf_linear_info*)info_bytes, err);
    if (st != QF_OK) return st;
    if (!canary_intact(info_bytes, 48, sizeof info_bytes))
      return fail(err, QF_ERR_INTERNAL, "the host wrote past a 48-byte qf_linear_info");
    const qf_linear_info* info = (const qf_linear_info*)info_bytes;
    DLTensor w;
    st = api->read_weight(layer, info->short_name, &w, err);
    if (st != QF_OK) return st;
    const int64_t numel = info->out_features * info->in_features;
    float* q = malloc((size_t)numel * sizeof(float));
    if (!q) return fail(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
    const float* src = (const float*)w.data;
    for (int64_t k = 0; k < numel; ++k) q[k] = nearbyintf(src[k] * (float)inst->step) / (float)inst->step;
    int64_t shape[2] = {info->out_features, info->in_features};
    DLTensor t = {q, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape, NULL, 0};
    st = api->write_weight(layer, info->short_name, &t, err);
    char full[512];
    snprintf(full, sizeof full, "%s.weight", info->name);
    if (st == QF_OK) st = api->emit_tensor(inst->session, full, &t, err);
    free(q);
    if (st != QF_OK) return st;
  }
  return api->progress(inst->session, "old_abi", index + 1, count) ? QF_OK
                                                                    : fail(err, QF_ERR_CANCELLED, "cancelled");
}

static int32_t finish(void* p, qf_error* err) {
  instance* inst = p;
  char path[4096];
  int32_t st = inst->api->create_output(inst->session, ".scratch/old-notes", path, sizeof path, err);
  if (st != QF_OK) return st;
  FILE* f = fopen(path, "w");
  if (!f) return fail(err, QF_ERR_IO, "cannot write the scratch file");
  fputs("scratch data that must never be committed\n", f);
  fclose(f);
  return inst->api->set_quantization_config(inst->session, "{\"quant_method\": \"old_abi\"}", err);
}

static void destroy(void* p) { free(p); }

static const qf_method_vtable kTable = {sizeof(qf_method_vtable), &create, &requirements, &quantize_layer, &finish,
                                        &destroy};
static const void* get_interface(const char* id) { return strcmp(id, QF_METHOD_INTERFACE_ID) == 0 ? &kTable : NULL; }

static const option_1_0 kOptions[] = {
    {40, "step", QF_OPTION_INT, "16", "grid points per unit"},
    {40, "note", QF_OPTION_STRING, "\"none\"", "an unused string option"},
};

static const descriptor_1_0 kDescriptor = {sizeof(descriptor_1_0), 1, 0, QF_KIND_METHOD, "old_abi", "1.0.0",
                                           "a method plugin built against ABI 1.0", kOptions, 2, &init, &deinit,
                                           &get_interface};

QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) {
  return (const qf_plugin_descriptor*)&kDescriptor;
}
