// Every shipped ABI version's struct prefixes, pinned at compile time (LP64: x86-64, aarch64).
// Appending a field at the end of a struct leaves all of these true; moving, resizing or
// inserting a field breaks one, so a legal append and a break are told apart by the compiler.
// When a minor version ships, add its section and leave the earlier ones as they are.
// The full current layout is also recorded in plugin_abi_v1.manifest (checked by test_sdk).
#include <cstddef>

#include "quantforge/plugin.h"

#define QF_PIN(TYPE, FIELD, OFFSET) \
  static_assert(offsetof(TYPE, FIELD) == (OFFSET), #TYPE "." #FIELD " moved: an ABI break")
#define QF_PIN_SIZE(MACRO, BYTES) static_assert((MACRO) == (BYTES), #MACRO " changed: an ABI break")

static_assert(sizeof(void*) == 8, "the pinned offsets below are for LP64 targets");

// ---- 1.0
QF_PIN(qf_error, code, 0);
QF_PIN(qf_error, message, 4);
static_assert(sizeof(qf_error) == 1028, "qf_error is caller-allocated by every version: it never grows");

QF_PIN(qf_option_desc, struct_size, 0);
QF_PIN(qf_option_desc, name, 8);
QF_PIN(qf_option_desc, type, 16);
QF_PIN(qf_option_desc, default_value, 24);
QF_PIN(qf_option_desc, help, 32);
QF_PIN_SIZE(QF_SIZE_OPTION_DESC_1_0, 40);
// The legacy option array's element: hosts step through it with this size, so it never grows.
QF_PIN(qf_option_desc_1_0, name, 8);
QF_PIN(qf_option_desc_1_0, type, 16);
QF_PIN(qf_option_desc_1_0, default_value, 24);
QF_PIN(qf_option_desc_1_0, help, 32);
static_assert(sizeof(qf_option_desc_1_0) == 40, "qf_option_desc_1_0 is frozen: it never grows");

QF_PIN(qf_plugin_descriptor, struct_size, 0);
QF_PIN(qf_plugin_descriptor, abi_major, 4);
QF_PIN(qf_plugin_descriptor, abi_minor, 8);
QF_PIN(qf_plugin_descriptor, kind, 12);
QF_PIN(qf_plugin_descriptor, name, 16);
QF_PIN(qf_plugin_descriptor, version, 24);
QF_PIN(qf_plugin_descriptor, description, 32);
QF_PIN(qf_plugin_descriptor, options, 40);
QF_PIN(qf_plugin_descriptor, option_count, 48);
QF_PIN(qf_plugin_descriptor, init, 56);
QF_PIN(qf_plugin_descriptor, deinit, 64);
QF_PIN(qf_plugin_descriptor, get_interface, 72);
QF_PIN_SIZE(QF_SIZE_PLUGIN_DESCRIPTOR_1_0, 80);

QF_PIN(qf_host_api, struct_size, 0);
QF_PIN(qf_host_api, abi_major, 4);
QF_PIN(qf_host_api, abi_minor, 8);
QF_PIN(qf_host_api, log, 16);
QF_PIN(qf_host_api, alloc, 24);
QF_PIN(qf_host_api, free, 32);
QF_PIN(qf_host_api, get_service, 40);
QF_PIN_SIZE(QF_SIZE_HOST_API_1_0, 48);

QF_PIN(qf_linear_info, struct_size, 0);
QF_PIN(qf_linear_info, name, 8);
QF_PIN(qf_linear_info, short_name, 16);
QF_PIN(qf_linear_info, in_features, 24);
QF_PIN(qf_linear_info, out_features, 32);
QF_PIN(qf_linear_info, has_bias, 40);
QF_PIN(qf_linear_info, sequential_group, 44);
QF_PIN_SIZE(QF_SIZE_LINEAR_INFO_1_0, 48);

QF_PIN(qf_session_api, struct_size, 0);
QF_PIN(qf_session_api, progress, 8);
QF_PIN(qf_session_api, get_bool, 16);
QF_PIN(qf_session_api, get_int, 24);
QF_PIN(qf_session_api, get_float, 32);
QF_PIN(qf_session_api, get_string, 40);
QF_PIN(qf_session_api, linear_count, 48);
QF_PIN(qf_session_api, linear_info, 56);
QF_PIN(qf_session_api, read_weight, 64);
QF_PIN(qf_session_api, read_bias, 72);
QF_PIN(qf_session_api, write_weight, 80);
QF_PIN(qf_session_api, emit_tensor, 88);
QF_PIN(qf_session_api, set_quantization_config, 96);
QF_PIN(qf_session_api, create_output, 104);
QF_PIN(qf_session_api, record_shard, 112);
QF_PIN(qf_session_api, get_extension, 120);
QF_PIN_SIZE(QF_SIZE_SESSION_API_1_0, 128);

QF_PIN(qf_method_requirements, struct_size, 0);
QF_PIN(qf_method_requirements, needs_calibration, 4);
QF_PIN(qf_method_requirements, num_samples, 8);
QF_PIN(qf_method_requirements, seqlen, 16);
QF_PIN(qf_method_requirements, propagate_quantized, 24);
QF_PIN_SIZE(QF_SIZE_METHOD_REQUIREMENTS_1_0, 25);

QF_PIN(qf_method_vtable, struct_size, 0);
QF_PIN(qf_method_vtable, create, 8);
QF_PIN(qf_method_vtable, requirements, 16);
QF_PIN(qf_method_vtable, quantize_layer, 24);
QF_PIN(qf_method_vtable, finish, 32);
QF_PIN(qf_method_vtable, destroy, 40);
QF_PIN_SIZE(QF_SIZE_METHOD_VTABLE_1_0, 48);

QF_PIN(qf_format_vtable, struct_size, 0);
QF_PIN(qf_format_vtable, create, 8);
QF_PIN(qf_format_vtable, add_tensor, 16);
QF_PIN(qf_format_vtable, add_shard, 24);
QF_PIN(qf_format_vtable, finish, 32);
QF_PIN(qf_format_vtable, destroy, 40);
QF_PIN_SIZE(QF_SIZE_FORMAT_VTABLE_1_0, 48);

QF_PIN(qf_scaling_group, struct_size, 0);
QF_PIN(qf_scaling_group, prev_op, 8);
QF_PIN(qf_scaling_group, linears, 16);
QF_PIN(qf_scaling_group, linear_count, 24);
QF_PIN(qf_scaling_group, inspect, 32);
QF_PIN_SIZE(QF_SIZE_SCALING_GROUP_1_0, 40);

QF_PIN(qf_calibration_api, struct_size, 0);
QF_PIN(qf_calibration_api, captured_input, 8);
QF_PIN(qf_calibration_api, input_gram, 16);
QF_PIN(qf_calibration_api, run_module, 24);
QF_PIN(qf_calibration_api, scale_previous_op, 32);
QF_PIN(qf_calibration_api, scaling_group_count, 40);
QF_PIN(qf_calibration_api, scaling_group, 48);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_API_1_0, 56);

// ---- 1.1 added qf_calibration_api.release_captured
QF_PIN(qf_calibration_api, release_captured, 56);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_API_1_1, 64);

// ---- 1.2 added qf_plugin_descriptor.get_option, qf_host_api.host_data and log_message,
//      qf_session_api.create_scratch, qf_calibration_api.calibration_shape, qf_calibration_shape
QF_PIN(qf_plugin_descriptor, get_option, 80);
QF_PIN(qf_host_api, host_data, 48);
QF_PIN(qf_host_api, log_message, 56);
QF_PIN(qf_session_api, create_scratch, 128);
QF_PIN(qf_calibration_api, calibration_shape, 64);
QF_PIN(qf_calibration_shape, struct_size, 0);
QF_PIN(qf_calibration_shape, blocks, 8);
QF_PIN(qf_calibration_shape, block_length, 16);
QF_PIN(qf_calibration_shape, tokens, 24);
QF_PIN_SIZE(QF_SIZE_PLUGIN_DESCRIPTOR_1_2, 88);
QF_PIN_SIZE(QF_SIZE_HOST_API_1_2, 64);
QF_PIN_SIZE(QF_SIZE_SESSION_API_1_2, 136);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_API_1_2, 72);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_SHAPE_1_2, 32);

// ---- 1.3 added the "qf.source_model/1" extension, qf_source_model_api
QF_PIN(qf_source_model_api, struct_size, 0);
QF_PIN(qf_source_model_api, model_dir, 8);
QF_PIN(qf_source_model_api, quantization_config, 16);
QF_PIN(qf_source_model_api, encode, 24);
QF_PIN(qf_source_model_api, set_output_quantization_config, 32);
QF_PIN_SIZE(QF_SIZE_SOURCE_MODEL_API_1_3, 40);

// ---- 1.4 added qf_calibration_api.all_reduce_sum, qf_calibration_shape.first_block, all_blocks,
//      rank and ranks
QF_PIN(qf_calibration_api, all_reduce_sum, 72);
QF_PIN(qf_calibration_shape, first_block, 32);
QF_PIN(qf_calibration_shape, all_blocks, 40);
QF_PIN(qf_calibration_shape, rank, 48);
QF_PIN(qf_calibration_shape, ranks, 52);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_API_1_4, 80);
QF_PIN_SIZE(QF_SIZE_CALIBRATION_SHAPE_1_4, 56);

// Fields added after a version start at or after that version's sizeof (tail padding included),
// so an older party's unset padding is never read as a newer field. The sizeof each struct had
// when it shipped; a struct's first appended field must start at or after it.
#define QF_PIN_APPENDED_AFTER(TYPE, FIELD, OLD_SIZEOF) \
  static_assert(offsetof(TYPE, FIELD) >= (OLD_SIZEOF), #TYPE "." #FIELD " reuses the tail padding of an older version")
QF_PIN_APPENDED_AFTER(qf_plugin_descriptor, get_option, 80);
QF_PIN_APPENDED_AFTER(qf_host_api, host_data, 48);
QF_PIN_APPENDED_AFTER(qf_session_api, create_scratch, 128);
QF_PIN_APPENDED_AFTER(qf_calibration_api, release_captured, 56);
QF_PIN_APPENDED_AFTER(qf_calibration_api, calibration_shape, 64);
QF_PIN_APPENDED_AFTER(qf_calibration_api, all_reduce_sum, 72);
QF_PIN_APPENDED_AFTER(qf_calibration_shape, first_block, 32);
// Not grown yet; their shipped sizeof (a field appended later starts at or after it):
// qf_linear_info 48, qf_method_requirements 32 (its last field ends at 25), qf_scaling_group 40,
// qf_method_vtable 48, qf_format_vtable 48, qf_source_model_api 40.
