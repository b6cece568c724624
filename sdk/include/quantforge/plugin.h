/*
 * QuantForge plugin C ABI, version 1.3 (docs/plugin-guide.md is the guide for plugin authors).
 *
 * A plugin is a shared library that exports one C function, `quantforge_plugin_entry`, returning a
 * descriptor. The host reads the descriptor's first three fields (struct_size, abi_major,
 * abi_minor) before anything else and refuses a library whose abi_major differs from its own.
 *
 * Rules that keep this ABI stable across minor versions:
 *  - Only fixed-width C types, opaque handles and DLPack DLTensor views cross the boundary.
 *  - Every struct starts with `struct_size`; structs only ever grow at the end. Each field added
 *    after 1.0 is marked "since 1.x"; QF_SIZE_<STRUCT>_<version> name the size each shipped version
 *    had, and sdk/abi/ pins every version's prefix at compile time.
 *  - Tables read across the boundary (descriptor, vtables, service tables): a reader checks the
 *    table's struct_size before touching a field added after 1.0 (QF_HAS_FIELD). A function that
 *    is absent, or NULL, is treated as "not offered".
 *  - Out-structs (the caller allocates, the callee fills, e.g. qf_linear_info): the caller sets
 *    struct_size to its own sizeof and fills defaults; the callee writes only the first
 *    min(caller's struct_size, callee's sizeof) bytes and leaves struct_size as the caller set it.
 *    Older and newer structs so interoperate both ways. A callee refuses (QF_ERR_INVALID_ARGUMENT)
 *    a struct_size smaller than the struct's first shipped version.
 *  - A field added in a later version starts at or after the previous version's sizeof (its tail
 *    padding included), so padding an older party left unset is never read as a new field.
 *  - Optional, later services are looked up by string id ("qf.calibration/1"), never by
 *    inserting fields.
 *  - No C++ exception may cross the boundary: every function catches everything and returns a
 *    status code (qf_status) with a message in the caller's qf_error. The code is kept end to end:
 *    the host reports a user error, a bug, out of memory, an I/O failure or a cancellation as such.
 *  - Whoever allocates frees. Strings and arrays returned by the plugin belong to the plugin and
 *    live until `deinit`; pointers the host passes in are valid only for the duration of the call
 *    unless the function's comment says otherwise.
 *
 * Threading: unless a function says otherwise, the host calls plugin functions from one thread
 * at a time, and a plugin calls host services only from the thread that is inside a call from the
 * host. Plugins may use threads internally (e.g. LibTorch's pool) but must join them before
 * returning.
 */
#ifndef QUANTFORGE_PLUGIN_H
#define QUANTFORGE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QF_ABI_VERSION_MAJOR 1
#define QF_ABI_VERSION_MINOR 4

/* Bytes from the start of struct TYPE up to and including FIELD: the struct_size a reader needs to
 * see before it may use FIELD. */
#define QF_SIZE_THROUGH(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE*)0)->FIELD))
/* True when the table PTR (of type TYPE) is large enough to carry FIELD and FIELD is set. */
#define QF_HAS_FIELD(PTR, TYPE, FIELD) ((PTR)->struct_size >= QF_SIZE_THROUGH(TYPE, FIELD) && (PTR)->FIELD)

/* Name of the single exported symbol. */
#define QF_PLUGIN_ENTRY_NAME "quantforge_plugin_entry"

#if defined(_WIN32)
#define QF_PLUGIN_EXPORT __declspec(dllexport)
#else
#define QF_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------- status and errors */

/* What went wrong, kept from the callee to the user. Codes 1-3 are the user's to fix (the message
 * says how); 4-6 are conditions of the machine or the user's choice; 7 is a bug in the callee. */
typedef enum qf_status {
  QF_OK = 0,
  QF_ERR_INVALID_ARGUMENT = 1, /* user error: bad option value, shape the method cannot handle, ... */
  QF_ERR_NOT_FOUND = 2,        /* user error: unknown linear, option or service */
  QF_ERR_UNSUPPORTED = 3,      /* user error: a valid request this plugin does not implement */
  QF_ERR_IO = 4,               /* file system failure (disk full, permission, ...) */
  QF_ERR_CANCELLED = 5,        /* the user cancelled (progress returned false) */
  QF_ERR_OUT_OF_MEMORY = 6,
  QF_ERR_INTERNAL = 7          /* a bug: an invariant broke */
} qf_status;

#define QF_ERROR_MESSAGE_CAPACITY 1024

/* Caller-allocated error slot. A callee that fails sets `code` and writes a NUL-terminated
 * message (truncated to fit). A callee that succeeds leaves it untouched. */
typedef struct qf_error {
  int32_t code;
  char message[QF_ERROR_MESSAGE_CAPACITY];
} qf_error;

/* ---------------------------------------------------------------- descriptor */

typedef enum qf_plugin_kind { QF_KIND_METHOD = 1, QF_KIND_FORMAT = 2 } qf_plugin_kind;

typedef enum qf_option_type {
  QF_OPTION_BOOL = 1,
  QF_OPTION_INT = 2,
  QF_OPTION_FLOAT = 3,
  QF_OPTION_STRING = 4
} qf_option_type;

/* One element of the descriptor's `options` array, in the 1.0 layout. Frozen: hosts before 1.2
 * step through that array with this size, so it can never grow. Strings are owned by the plugin,
 * valid until deinit. */
typedef struct qf_option_desc_1_0 {
  uint32_t struct_size; /* QF_SIZE_OPTION_DESC_1_0 */
  const char* name;
  int32_t type;
  const char* default_value;
  const char* help;
} qf_option_desc_1_0;

/* One option a plugin accepts: the out-struct of qf_plugin_descriptor.get_option (since 1.2). It
 * grows at the end like every out-struct; its first fields are those of qf_option_desc_1_0.
 * Strings are owned by the plugin, valid until deinit. */
typedef struct qf_option_desc {
  uint32_t struct_size;
  const char* name;          /* e.g. "bits" */
  int32_t type;              /* qf_option_type */
  const char* default_value; /* textual TOML literal: "4", "true", "0.01", "\"wikitext2\"" */
  const char* help;          /* one line */
} qf_option_desc;

struct qf_host_api;

/* What the entry symbol returns. Owned by the plugin; static storage is expected. */
typedef struct qf_plugin_descriptor {
  uint32_t struct_size; /* sizeof(qf_plugin_descriptor) as the plugin was compiled */
  uint32_t abi_major;   /* QF_ABI_VERSION_MAJOR of the plugin's SDK */
  uint32_t abi_minor;
  int32_t kind;         /* qf_plugin_kind */
  const char* name;     /* unique, [a-z0-9_]+ */
  const char* version;  /* the plugin's own version, free-form */
  const char* description;
  /* The options as an array of frozen 1.0-layout elements: what hosts before 1.2 read, and what
   * hosts from 1.2 on read from a plugin without get_option. Must not be NULL when option_count
   * is not 0, even for a plugin that has get_option (older hosts need it). */
  const qf_option_desc_1_0* options;
  uint32_t option_count; /* number of options, for both ways of reading them */

  /* Called once after load, before any other function except reading this descriptor.
   * `host` stays valid until deinit returns. Returns QF_OK or an error code with `err` filled.
   * Must be cheap: `quantforge plugins list` calls it for every plugin. */
  int32_t (*init)(const struct qf_host_api* host, qf_error* err);
  /* Called once before unload, after every object the plugin created has been destroyed. */
  void (*deinit)(void);
  /* Returns the interface table with this id ("qf.method/1", "qf.format/1"), or NULL.
   * The table is owned by the plugin and valid until deinit. */
  const void* (*get_interface)(const char* interface_id);
  /* Since 1.2. Fills option `index` (< option_count) as an out-struct (see the rules above).
   * Callable before init, from any thread; strings valid until deinit. */
  int32_t (*get_option)(uint32_t index, qf_option_desc* out, qf_error* err);
} qf_plugin_descriptor;

typedef const qf_plugin_descriptor* (*qf_plugin_entry_fn)(void);

/* ---------------------------------------------------------------- host services */

typedef enum qf_log_level {
  QF_LOG_TRACE = 0,
  QF_LOG_DEBUG = 1,
  QF_LOG_INFO = 2,
  QF_LOG_WARN = 3,
  QF_LOG_ERROR = 4
} qf_log_level;

/* Services passed to init. Each plugin receives its own table (so the host knows who is calling);
 * it stays valid until deinit returns. Unlike the session and calibration services, every function
 * here may be called from any thread, including threads the plugin started, at any time between
 * init and the end of deinit. */
typedef struct qf_host_api {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Logs `msg` (copied before return). Kept for plugins built before 1.2: it carries no context, so
   * the host names the plugin only while that plugin is inside a call from the host. */
  void (*log)(int32_t level, const char* msg);
  /* Aligned allocation from the host; release with `free` below (never the C library's). Returns
   * NULL on failure or when the size overflows. `alignment` is a power of two (smaller than a
   * pointer is rounded up; 0 means the platform's default). */
  void* (*alloc)(size_t size, size_t alignment);
  void (*free)(void* ptr);
  /* Optional process-wide services by id; NULL when the host has none by that id. */
  const void* (*get_service)(const char* service_id);
  /* Since 1.2. The host's data for this plugin; plugins must not touch it. */
  void* host_data;
  /* Since 1.2. Logs `msg` (copied before return) as coming from the plugin `host` was given to:
   * the host prefixes the plugin's name. Pass the table received in init. */
  void (*log_message)(const struct qf_host_api* host, int32_t level, const char* msg);
} qf_host_api;

/* ---------------------------------------------------------------- sessions (per run) */

typedef struct qf_session qf_session; /* opaque, owned by the host */
typedef struct qf_layer qf_layer;     /* opaque, owned by the host; one decoder layer */

/* Description of one Linear in a decoder layer. Strings are owned by the host and valid until the
 * layer call that produced them returns. */
typedef struct qf_linear_info {
  uint32_t struct_size;
  const char* name;      /* full tensor prefix, e.g. "model.layers.0.self_attn.q_proj" */
  const char* short_name;/* name within the layer, e.g. "self_attn.q_proj" */
  int64_t in_features;
  int64_t out_features;
  bool has_bias;
  /* GPTQ "true sequential" group of the architecture: linears of group g are quantized after
   * those of groups < g (e.g. llama: 0 = q,k,v; 1 = o; 2 = gate,up; 3 = down). */
  uint32_t sequential_group;
} qf_linear_info;

/* Services the host offers during one run. The table and `session` are valid from the method's or
 * format's `create` until its `destroy`. Functions are not thread-safe: call them from the thread
 * that is inside a host->plugin call. */
typedef struct qf_session_api {
  uint32_t struct_size;

  /* Reports progress of `stage` (e.g. "layer") as done/total. Returns true to continue, false when
   * the user asked to cancel: the plugin should then return QF_ERR_CANCELLED promptly. */
  bool (*progress)(qf_session* s, const char* stage, uint64_t done, uint64_t total);

  /* Typed option lookup: the recipe's value, a CLI override, or the descriptor's default.
   * Return QF_ERR_NOT_FOUND for an unknown name and QF_ERR_INVALID_ARGUMENT for a type mismatch,
   * with `err` filled. Strings are owned by the host and valid until the session ends. */
  int32_t (*get_bool)(qf_session* s, const char* name, bool* out, qf_error* err);
  int32_t (*get_int)(qf_session* s, const char* name, int64_t* out, qf_error* err);
  int32_t (*get_float)(qf_session* s, const char* name, double* out, qf_error* err);
  int32_t (*get_string)(qf_session* s, const char* name, const char** out, qf_error* err);

  /* --- method services, valid only inside quantize_layer for the `layer` passed there --- */

  /* Number of Linears in the layer and their descriptions, in the architecture's order. */
  uint32_t (*linear_count)(qf_layer* layer);
  int32_t (*linear_info)(qf_layer* layer, uint32_t index, qf_linear_info* out, qf_error* err);

  /* Borrowed fp32 view [out, in] (contiguous, CPU) of a Linear's current weight. Valid until the
   * next write_weight of the same linear or the end of quantize_layer. Do not write through it. */
  int32_t (*read_weight)(qf_layer* layer, const char* short_name, DLTensor* out, qf_error* err);
  /* Borrowed fp32 view [out] of the bias; QF_ERR_NOT_FOUND when the Linear has none. */
  int32_t (*read_bias)(qf_layer* layer, const char* short_name, DLTensor* out, qf_error* err);

  /* Replaces a Linear's weight in the host's model with `weight` ([out, in], any float dtype; the
   * host copies it). Methods call it with the dequantized weight, so the next layers see the
   * quantized model, and it marks the linear as quantized: its original ".weight" is then not
   * written to the output. */
  int32_t (*write_weight)(qf_layer* layer, const char* short_name, const DLTensor* weight,
                          qf_error* err);

  /* Emits one output tensor under its full name (e.g. "model.layers.0.self_attn.q_proj.qweight").
   * The host copies it before returning. Usable from quantize_layer and finish. */
  int32_t (*emit_tensor)(qf_session* s, const char* name, const DLTensor* tensor, qf_error* err);

  /* Sets the JSON object (text, UTF-8) that becomes config.json's "quantization_config" and the
   * layout's quantization config file. The host copies it. */
  int32_t (*set_quantization_config)(qf_session* s, const char* json_object, qf_error* err);

  /* --- format services --- */

  /* Asks the host for a file to write the output file `relative_name` (e.g.
   * "model-00001-of-00002.safetensors"). The host writes the staging path (absolute, NUL-
   * terminated) into `path_out`; the plugin writes the complete file there and the host moves all
   * staged files into place atomically once the whole run succeeded. */
  int32_t (*create_output)(qf_session* s, const char* relative_name, char* path_out,
                           size_t path_capacity, qf_error* err);
  /* A format plugin that wrote a weight shard tells the host which tensors it holds; the host
   * forwards the record to the next format plugins in the chain (the index writer). */
  int32_t (*record_shard)(qf_session* s, const char* relative_name, const char* const* tensor_names,
                          uint32_t tensor_count, uint64_t data_bytes, qf_error* err);

  /* Optional per-session services by id ("qf.calibration/1"); NULL when unavailable. */
  const void* (*get_extension)(qf_session* s, const char* extension_id);

  /* Since 1.2. A private file for the plugin's own temporary data (e.g. a spool of tensors that
   * arrive before their file can be written), on the output's file system. Writes the absolute path
   * into `path_out`; `name` is a plain file name unique within the plugin. The host deletes it when
   * the run ends, successful or not, and never commits it. (Hosts before 1.2 offered this through
   * create_output with a ".scratch/" name prefix; 1.2 hosts still honour that prefix.) */
  int32_t (*create_scratch)(qf_session* s, const char* name, char* path_out, size_t path_capacity, qf_error* err);
} qf_session_api;

/* ---------------------------------------------------------------- method interface "qf.method/1" */

#define QF_METHOD_INTERFACE_ID "qf.method/1"

typedef struct qf_method_requirements {
  uint32_t struct_size;
  bool needs_calibration;   /* the host prepares calibration data and captures inputs */
  int64_t num_samples;      /* calibration blocks wanted, 0 = host default */
  int64_t seqlen;           /* tokens per block, 0 = host default */
  /* Which hidden states feed the next layer: true = the outputs of this layer with the method's
   * written (quantized) weights, as GPTQ does; false = the outputs of the original layer, as AWQ
   * does. */
  bool propagate_quantized;
} qf_method_requirements;

typedef struct qf_method_vtable {
  uint32_t struct_size;
  /* Creates the method's state for one run. Options are read through `api`. */
  int32_t (*create)(const qf_session_api* api, qf_session* session, void** instance, qf_error* err);
  /* What the host must prepare before the first layer. */
  int32_t (*requirements)(void* instance, qf_method_requirements* out, qf_error* err);
  /* Quantizes one decoder layer. `layer_index` counts from 0 of `layer_count`. */
  int32_t (*quantize_layer)(void* instance, qf_layer* layer, uint32_t layer_index,
                            uint32_t layer_count, qf_error* err);
  /* Called once after the last layer: emit remaining tensors and the quantization config. */
  int32_t (*finish)(void* instance, qf_error* err);
  /* Frees the instance. Never fails. */
  void (*destroy)(void* instance);
} qf_method_vtable;

/* ---------------------------------------------------------------- format interface "qf.format/1" */

#define QF_FORMAT_INTERFACE_ID "qf.format/1"

typedef struct qf_format_vtable {
  uint32_t struct_size;
  int32_t (*create)(const qf_session_api* api, qf_session* session, void** instance, qf_error* err);
  /* One output tensor. `tensor` and `name` are valid only during the call: copy what you keep. */
  int32_t (*add_tensor)(void* instance, const char* name, const DLTensor* tensor, qf_error* err);
  /* A shard written by an earlier format plugin in the chain (see record_shard). */
  int32_t (*add_shard)(void* instance, const char* relative_name, const char* const* tensor_names,
                       uint32_t tensor_count, uint64_t data_bytes, qf_error* err);
  /* All tensors and shards have arrived: write the files. */
  int32_t (*finish)(void* instance, qf_error* err);
  void (*destroy)(void* instance);
} qf_format_vtable;

/* ---------------------------------------------------------------- optional: "qf.calibration/1" */

#define QF_CALIBRATION_EXTENSION_ID "qf.calibration/1"

/* One AWQ scaling group of a layer (docs/awq.md#scaling-groups): the op whose output feeds `linears`, the
 * linears that share that input, and the module whose output defines the search loss ("self_attn",
 * "mlp", or a Linear's short name). Strings are owned by the host, valid until quantize_layer
 * returns. */
typedef struct qf_scaling_group {
  uint32_t struct_size;
  const char* prev_op;           /* "input_layernorm", "self_attn.v_proj", ... */
  const char* const* linears;    /* short names */
  uint32_t linear_count;
  const char* inspect;
} qf_scaling_group;

/* The calibration set as the host prepared it (an out-struct, see the rules above). */
typedef struct qf_calibration_shape {
  uint32_t struct_size;
  int64_t blocks;       /* calibration blocks (sequences) */
  int64_t block_length; /* tokens per block: run_module inputs are whole blocks of this length */
  int64_t tokens;       /* blocks * block_length: the rows of captured_input */
  /* Since 1.4. A distributed run gives each rank a contiguous share of the calibration blocks: the
   * rows above are blocks first_block .. first_block + blocks - 1 of all_blocks (a single process:
   * first_block 0, all_blocks = blocks). Methods that sample tokens by position use them. */
  int64_t first_block;
  int64_t all_blocks;
  /* Since 1.4. This process's rank among `ranks` processes (0 and 1 in a single process). Ranks may
   * divide work that is not about the blocks (GPTQ solves each Linear on one rank) and share the
   * results through all_reduce_sum: the others contribute zeros. */
  int32_t rank;
  int32_t ranks;
} qf_calibration_shape;

/* Calibration services for methods that need data (AWQ, GPTQ). Valid inside quantize_layer, for
 * the layer passed there. Inputs always reflect the layer's CURRENT weights: after write_weight or
 * scale_previous_op the host recomputes them on the next request (so GPTQ's true-sequential order
 * falls out of asking group by group; AWQ copies what it needs before changing anything). */
typedef struct qf_calibration_api {
  uint32_t struct_size;
  /* Borrowed fp32 view [tokens, in] of the inputs the Linear sees on the calibration set. Valid
   * until the next call that changes the layer's weights, or the end of quantize_layer. */
  int32_t (*captured_input)(qf_layer* layer, const char* short_name, DLTensor* out, qf_error* err);
  /* Sum over calibration tokens of x x^T for the Linear's input x, written into `gram` (caller-
   * allocated fp32 [in, in]); `tokens` receives the token count. The host streams the tokens, so
   * no [tokens, in] matrix is held: what GPTQ's Hessian needs (H = 2/tokens * gram). When the
   * input is already captured (captured_input) the host uses that copy instead of a forward. */
  int32_t (*input_gram)(qf_layer* layer, const char* short_name, DLTensor* gram, int64_t* tokens,
                        qf_error* err);
  /* Runs a sub-module of the layer ("self_attn", "mlp", or a Linear's short name) with its current
   * weights on `input` ([tokens, in] fp32, rows in the block order captured_input uses; tokens a
   * multiple of the calibration block length, since attention sees each block as one sequence) and
   * writes the output into `output`, which the caller allocated as fp32 [tokens, out]. The host
   * works through the input a few blocks at a time (bounded temporaries, whatever its length) and
   * returns QF_ERR_CANCELLED between blocks when the user interrupts the run. */
  int32_t (*run_module)(qf_layer* layer, const char* module, const DLTensor* input, DLTensor* output,
                        qf_error* err);
  /* Divides the output channels of the op before the given linears (a norm's weight and bias, or a
   * previous Linear's rows) by `scales` ([in] fp32) and multiplies the input columns of each
   * listed linear by it, leaving the layer's function unchanged. */
  int32_t (*scale_previous_op)(qf_layer* layer, const char* prev_op, const char* const* linears,
                               uint32_t linear_count, const DLTensor* scales, qf_error* err);
  /* The architecture's AWQ scaling groups that apply to this layer, in order. */
  uint32_t (*scaling_group_count)(qf_layer* layer);
  int32_t (*scaling_group)(qf_layer* layer, uint32_t index, qf_scaling_group* out, qf_error* err);
  /* Since 1.1 (check with QF_HAS_FIELD before calling). Drops the host's cached input of the
   * Linear (and of every Linear sharing that input) now instead of at the next weight change, so a
   * plugin that has taken what it needs bounds peak memory; views from captured_input of those
   * Linears are invalid afterwards. A later captured_input/input_gram recomputes it. Never fails;
   * unknown names are ignored. Same thread as quantize_layer. */
  void (*release_captured)(qf_layer* layer, const char* short_name);
  /* Since 1.2 (check with QF_HAS_FIELD before calling; a 1.0/1.1 host does not offer it). How many
   * calibration blocks of how many tokens the host prepared for this run (the method's
   * requirements ask; the user's --seqlen and the model's context length decide). */
  int32_t (*calibration_shape)(qf_layer* layer, qf_calibration_shape* out, qf_error* err);
  /* Since 1.4 (check with QF_HAS_FIELD; older hosts never run distributed). Sums `inout` (a
   * contiguous CPU tensor of float32, float64 or int64, owned by the caller) element-wise over the
   * ranks of a distributed run, in place; every rank receives the same bits. In a single process it
   * returns at once and leaves the tensor as it is. A method whose decisions rest on sums over the
   * calibration tokens it computed itself from captured_input or run_module (means, losses) calls
   * it so that every rank decides the same; input_gram's Gram matrix and token count are already
   * totals. Every rank must make the same calls in the same order (they are collective). Same
   * thread as quantize_layer. QF_ERR_IO when another rank failed or did not answer in time. */
  int32_t (*all_reduce_sum)(qf_layer* layer, DLTensor* inout, qf_error* err);
} qf_calibration_api;

/* ---------------------------------------------------------------- optional: "qf.source_model/1" */

#define QF_SOURCE_MODEL_EXTENSION_ID "qf.source_model/1"

/* Since 1.3. What a format plugin needs to know about the model beyond its tensors: where its
 * files are, what the method did, and its tokenizer. Offered to every plugin of a run (a 1.2 host
 * returns NULL from get_extension: check). All functions may be called from any thread of the
 * plugin, one call at a time per session. */
typedef struct qf_source_model_api {
  uint32_t struct_size;
  /* Absolute path (NUL-terminated, owned by the host, valid until the session ends) of the folder
   * of the model being processed: config.json, tokenizer.json, tokenizer_config.json, ... Plugins
   * may read these files; they must never write there. */
  const char* (*model_dir)(qf_session* s);
  /* The JSON object text of the method's quantization_config, or NULL while no method has set one
   * and in runs that do not quantize (convert). Owned by the host; valid until the next
   * set_quantization_config or the end of the session. Complete once the method's finish ran,
   * i.e. in a format plugin's finish. */
  const char* (*quantization_config)(qf_session* s);
  /* Encodes `length` bytes of UTF-8 `text` with the model's own tokenizer (tokenizer.json), as
   * Hugging Face's encode(text, add_special_tokens=add_special) does. Writes at most `capacity`
   * ids into `ids` (NULL allowed when capacity is 0) and the full count into `*count`: call again
   * with a larger buffer when *count > capacity. QF_ERR_NOT_FOUND when the model has no
   * tokenizer.json. */
  int32_t (*encode)(qf_session* s, const char* text, size_t length, bool add_special, int32_t* ids,
                    size_t capacity, size_t* count, qf_error* err);
  /* A format plugin that writes the model's config.json in another quantization format (e.g.
   * compressed-tensors) replaces the quantization_config that the host writes into the output's
   * config.json (and into the layout's quantization config file). `json_object` is copied. */
  int32_t (*set_output_quantization_config)(qf_session* s, const char* json_object, qf_error* err);
} qf_source_model_api;

/* ---------------------------------------------------------------- sizes of shipped versions */

/* The struct_size up to the last field of each shipped version (tail padding excluded, so a value
 * is the smallest struct_size a party of that version can send): compare a table's struct_size
 * against these, or use QF_HAS_FIELD for one field. A struct without a _1_2 entry has not grown
 * since the version listed. */
#define QF_SIZE_PLUGIN_DESCRIPTOR_1_0 QF_SIZE_THROUGH(qf_plugin_descriptor, get_interface)
#define QF_SIZE_HOST_API_1_0 QF_SIZE_THROUGH(qf_host_api, get_service)
#define QF_SIZE_SESSION_API_1_0 QF_SIZE_THROUGH(qf_session_api, get_extension)
#define QF_SIZE_CALIBRATION_API_1_0 QF_SIZE_THROUGH(qf_calibration_api, scaling_group)
#define QF_SIZE_CALIBRATION_API_1_1 QF_SIZE_THROUGH(qf_calibration_api, release_captured)
#define QF_SIZE_OPTION_DESC_1_0 sizeof(qf_option_desc_1_0)
#define QF_SIZE_LINEAR_INFO_1_0 QF_SIZE_THROUGH(qf_linear_info, sequential_group)
#define QF_SIZE_METHOD_REQUIREMENTS_1_0 QF_SIZE_THROUGH(qf_method_requirements, propagate_quantized)
#define QF_SIZE_METHOD_VTABLE_1_0 QF_SIZE_THROUGH(qf_method_vtable, destroy)
#define QF_SIZE_FORMAT_VTABLE_1_0 QF_SIZE_THROUGH(qf_format_vtable, destroy)
#define QF_SIZE_SCALING_GROUP_1_0 QF_SIZE_THROUGH(qf_scaling_group, inspect)
#define QF_SIZE_PLUGIN_DESCRIPTOR_1_2 QF_SIZE_THROUGH(qf_plugin_descriptor, get_option)
#define QF_SIZE_HOST_API_1_2 QF_SIZE_THROUGH(qf_host_api, log_message)
#define QF_SIZE_SESSION_API_1_2 QF_SIZE_THROUGH(qf_session_api, create_scratch)
#define QF_SIZE_CALIBRATION_API_1_2 QF_SIZE_THROUGH(qf_calibration_api, calibration_shape)
#define QF_SIZE_CALIBRATION_SHAPE_1_2 QF_SIZE_THROUGH(qf_calibration_shape, tokens)
#define QF_SIZE_SOURCE_MODEL_API_1_3 QF_SIZE_THROUGH(qf_source_model_api, set_output_quantization_config)
#define QF_SIZE_CALIBRATION_API_1_4 QF_SIZE_THROUGH(qf_calibration_api, all_reduce_sum)
#define QF_SIZE_CALIBRATION_SHAPE_1_4 QF_SIZE_THROUGH(qf_calibration_shape, ranks)

/* ---------------------------------------------------------------- entry symbol */

/* Every plugin defines exactly this function (see plugin.hpp's QF_DEFINE_PLUGIN). */
QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* QUANTFORGE_PLUGIN_H */
