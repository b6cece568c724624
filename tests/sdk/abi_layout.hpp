#pragma once
// The size and offset of every field of every public ABI struct, as "struct.field offset size"
// lines. Compared against sdk/abi/plugin_abi_v1.manifest so an accidental layout change fails CI;
// sdk/abi/pinned_layout.cpp pins each shipped version's prefix, which a legal append leaves intact.
#include <cstddef>
#include <sstream>
#include <string>

#include "quantforge/plugin.h"

#define QF_FIELD(S, F) os << #S "." #F " " << offsetof(S, F) << " " << sizeof(((S*)nullptr)->F) << "\n"
#define QF_STRUCT(S) os << #S " sizeof " << sizeof(S) << " align " << alignof(S) << "\n"

inline std::string abi_layout() {
  std::ostringstream os;
  os << "abi " << QF_ABI_VERSION_MAJOR << "." << QF_ABI_VERSION_MINOR << "\n";
  QF_STRUCT(qf_error);
  QF_FIELD(qf_error, code);
  QF_FIELD(qf_error, message);
  QF_STRUCT(qf_option_desc_1_0);
  QF_FIELD(qf_option_desc_1_0, struct_size);
  QF_FIELD(qf_option_desc_1_0, name);
  QF_FIELD(qf_option_desc_1_0, type);
  QF_FIELD(qf_option_desc_1_0, default_value);
  QF_FIELD(qf_option_desc_1_0, help);
  QF_STRUCT(qf_option_desc);
  QF_FIELD(qf_option_desc, struct_size);
  QF_FIELD(qf_option_desc, name);
  QF_FIELD(qf_option_desc, type);
  QF_FIELD(qf_option_desc, default_value);
  QF_FIELD(qf_option_desc, help);
  QF_STRUCT(qf_plugin_descriptor);
  QF_FIELD(qf_plugin_descriptor, struct_size);
  QF_FIELD(qf_plugin_descriptor, abi_major);
  QF_FIELD(qf_plugin_descriptor, abi_minor);
  QF_FIELD(qf_plugin_descriptor, kind);
  QF_FIELD(qf_plugin_descriptor, name);
  QF_FIELD(qf_plugin_descriptor, version);
  QF_FIELD(qf_plugin_descriptor, description);
  QF_FIELD(qf_plugin_descriptor, options);
  QF_FIELD(qf_plugin_descriptor, option_count);
  QF_FIELD(qf_plugin_descriptor, init);
  QF_FIELD(qf_plugin_descriptor, deinit);
  QF_FIELD(qf_plugin_descriptor, get_interface);
  QF_FIELD(qf_plugin_descriptor, get_option);
  QF_STRUCT(qf_host_api);
  QF_FIELD(qf_host_api, struct_size);
  QF_FIELD(qf_host_api, abi_major);
  QF_FIELD(qf_host_api, abi_minor);
  QF_FIELD(qf_host_api, log);
  QF_FIELD(qf_host_api, alloc);
  QF_FIELD(qf_host_api, free);
  QF_FIELD(qf_host_api, get_service);
  QF_FIELD(qf_host_api, host_data);
  QF_FIELD(qf_host_api, log_message);
  QF_STRUCT(qf_linear_info);
  QF_FIELD(qf_linear_info, struct_size);
  QF_FIELD(qf_linear_info, name);
  QF_FIELD(qf_linear_info, short_name);
  QF_FIELD(qf_linear_info, in_features);
  QF_FIELD(qf_linear_info, out_features);
  QF_FIELD(qf_linear_info, has_bias);
  QF_FIELD(qf_linear_info, sequential_group);
  QF_STRUCT(qf_session_api);
  QF_FIELD(qf_session_api, struct_size);
  QF_FIELD(qf_session_api, progress);
  QF_FIELD(qf_session_api, get_bool);
  QF_FIELD(qf_session_api, get_int);
  QF_FIELD(qf_session_api, get_float);
  QF_FIELD(qf_session_api, get_string);
  QF_FIELD(qf_session_api, linear_count);
  QF_FIELD(qf_session_api, linear_info);
  QF_FIELD(qf_session_api, read_weight);
  QF_FIELD(qf_session_api, read_bias);
  QF_FIELD(qf_session_api, write_weight);
  QF_FIELD(qf_session_api, emit_tensor);
  QF_FIELD(qf_session_api, set_quantization_config);
  QF_FIELD(qf_session_api, create_output);
  QF_FIELD(qf_session_api, record_shard);
  QF_FIELD(qf_session_api, get_extension);
  QF_FIELD(qf_session_api, create_scratch);
  QF_STRUCT(qf_method_requirements);
  QF_FIELD(qf_method_requirements, struct_size);
  QF_FIELD(qf_method_requirements, needs_calibration);
  QF_FIELD(qf_method_requirements, num_samples);
  QF_FIELD(qf_method_requirements, seqlen);
  QF_FIELD(qf_method_requirements, propagate_quantized);
  QF_STRUCT(qf_method_vtable);
  QF_FIELD(qf_method_vtable, struct_size);
  QF_FIELD(qf_method_vtable, create);
  QF_FIELD(qf_method_vtable, requirements);
  QF_FIELD(qf_method_vtable, quantize_layer);
  QF_FIELD(qf_method_vtable, finish);
  QF_FIELD(qf_method_vtable, destroy);
  QF_STRUCT(qf_format_vtable);
  QF_FIELD(qf_format_vtable, struct_size);
  QF_FIELD(qf_format_vtable, create);
  QF_FIELD(qf_format_vtable, add_tensor);
  QF_FIELD(qf_format_vtable, add_shard);
  QF_FIELD(qf_format_vtable, finish);
  QF_FIELD(qf_format_vtable, destroy);
  QF_STRUCT(qf_calibration_api);
  QF_FIELD(qf_calibration_api, struct_size);
  QF_FIELD(qf_calibration_api, captured_input);
  QF_FIELD(qf_calibration_api, input_gram);
  QF_FIELD(qf_calibration_api, run_module);
  QF_FIELD(qf_calibration_api, scale_previous_op);
  QF_FIELD(qf_calibration_api, scaling_group_count);
  QF_FIELD(qf_calibration_api, scaling_group);
  QF_FIELD(qf_calibration_api, release_captured);
  QF_FIELD(qf_calibration_api, calibration_shape);
  QF_FIELD(qf_calibration_api, all_reduce_sum);
  QF_STRUCT(qf_scaling_group);
  QF_FIELD(qf_scaling_group, struct_size);
  QF_FIELD(qf_scaling_group, prev_op);
  QF_FIELD(qf_scaling_group, linears);
  QF_FIELD(qf_scaling_group, linear_count);
  QF_FIELD(qf_scaling_group, inspect);
  QF_STRUCT(qf_calibration_shape);
  QF_FIELD(qf_calibration_shape, struct_size);
  QF_FIELD(qf_calibration_shape, blocks);
  QF_FIELD(qf_calibration_shape, block_length);
  QF_FIELD(qf_calibration_shape, tokens);
  QF_FIELD(qf_calibration_shape, first_block);
  QF_FIELD(qf_calibration_shape, all_blocks);
  QF_FIELD(qf_calibration_shape, rank);
  QF_FIELD(qf_calibration_shape, ranks);
  QF_STRUCT(qf_source_model_api);
  QF_FIELD(qf_source_model_api, struct_size);
  QF_FIELD(qf_source_model_api, model_dir);
  QF_FIELD(qf_source_model_api, quantization_config);
  QF_FIELD(qf_source_model_api, encode);
  QF_FIELD(qf_source_model_api, set_output_quantization_config);
  QF_STRUCT(DLTensor);
  QF_FIELD(DLTensor, data);
  QF_FIELD(DLTensor, device);
  QF_FIELD(DLTensor, ndim);
  QF_FIELD(DLTensor, dtype);
  QF_FIELD(DLTensor, shape);
  QF_FIELD(DLTensor, strides);
  QF_FIELD(DLTensor, byte_offset);
  return os.str();
}
