#include "host/session.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "quantforge/struct_copy.hpp"

namespace qf::host {
namespace {

template <class T>
const T& typed_option(qf_session* s, const char* name, const char* type) {
  if (!name) throw ServiceError(QF_ERR_INVALID_ARGUMENT, "option name is NULL");
  auto it = s->options.find(name);
  if (it == s->options.end())
    throw ServiceError(QF_ERR_NOT_FOUND, "plugin '" + s->plugin_name + "' asked for undeclared option '" + name + "'");
  if (!std::holds_alternative<T>(it->second))
    throw ServiceError(QF_ERR_INVALID_ARGUMENT, "option '" + std::string(name) + "' is not of type " + type);
  return std::get<T>(it->second);
}

bool progress(qf_session* s, const char* stage, uint64_t done, uint64_t total) {
  try {
    return s->run->progress(stage ? stage : "", done, total);
  } catch (const std::exception& e) {
    // A report that could not be shown must not read as "the user cancelled": go on.
    try {
      spdlog::warn("progress report failed: {}", user_message(e));
    } catch (...) {
    }
    return true;
  } catch (...) {
    return true;
  }
}

int32_t get_bool(qf_session* s, const char* name, bool* out, qf_error* err) {
  return serve(err, [&] { *out = typed_option<bool>(s, name, "bool"); });
}
int32_t get_int(qf_session* s, const char* name, int64_t* out, qf_error* err) {
  return serve(err, [&] { *out = typed_option<int64_t>(s, name, "int"); });
}
int32_t get_float(qf_session* s, const char* name, double* out, qf_error* err) {
  return serve(err, [&] { *out = typed_option<double>(s, name, "float"); });
}
int32_t get_string(qf_session* s, const char* name, const char** out, qf_error* err) {
  return serve(err, [&] {
    const std::string& v = typed_option<std::string>(s, name, "string");
    *out = s->string_storage.insert_or_assign(name, v).first->second.c_str();
  });
}

uint32_t linear_count(qf_layer* layer) { return static_cast<uint32_t>(layer->linears().size()); }

int32_t linear_info(qf_layer* layer, uint32_t index, qf_linear_info* out, qf_error* err) {
  return serve(err, [&] {
    const auto& all = layer->linears();
    if (index >= all.size()) throw ServiceError(QF_ERR_NOT_FOUND, "linear index out of range");
    require_out_struct(out, QF_SIZE_LINEAR_INFO_1_0, "qf_linear_info");
    const LinearDesc& d = all[index];
    qf_linear_info info{};
    info.struct_size = sizeof(info);
    info.name = d.name.c_str();
    info.short_name = d.short_name.c_str();
    info.in_features = d.in_features;
    info.out_features = d.out_features;
    info.has_bias = d.has_bias;
    info.sequential_group = d.sequential_group;
    qf::abi::copy_out(out, info);  // an older plugin's smaller struct gets the fields it knows
  });
}

int32_t read_weight(qf_layer* layer, const char* short_name, DLTensor* out, qf_error* err) {
  return serve(err, [&] { *out = layer->read_weight(short_name ? short_name : ""); });
}
int32_t read_bias(qf_layer* layer, const char* short_name, DLTensor* out, qf_error* err) {
  return serve(err, [&] { *out = layer->read_bias(short_name ? short_name : ""); });
}
int32_t write_weight(qf_layer* layer, const char* short_name, const DLTensor* weight, qf_error* err) {
  return serve(err, [&] { layer->write_weight(short_name ? short_name : "", *weight); });
}

int32_t emit_tensor(qf_session* s, const char* name, const DLTensor* tensor, qf_error* err) {
  return serve(err, [&] {
    if (!name || !tensor) throw ServiceError(QF_ERR_INVALID_ARGUMENT, "emit_tensor needs a name and a tensor");
    s->run->emit_tensor(name, *tensor);
  });
}
int32_t set_quantization_config(qf_session* s, const char* json, qf_error* err) {
  return serve(err, [&] { s->run->set_quantization_config(json ? json : ""); });
}

void copy_path(const std::string& p, char* path_out, size_t capacity) {
  if (path_out == nullptr || p.size() + 1 > capacity)
    throw ServiceError(QF_ERR_INVALID_ARGUMENT, "path buffer too small for " + p);
  std::memcpy(path_out, p.c_str(), p.size() + 1);
}

int32_t create_output(qf_session* s, const char* name, char* path_out, size_t capacity, qf_error* err) {
  return serve(err, [&] { copy_path(s->run->create_output(name ? name : "").string(), path_out, capacity); });
}

int32_t create_scratch(qf_session* s, const char* name, char* path_out, size_t capacity, qf_error* err) {
  return serve(err, [&] {
    copy_path(s->run->create_scratch(s->plugin_name, name ? name : "").string(), path_out, capacity);
  });
}

int32_t record_shard(qf_session* s, const char* name, const char* const* names, uint32_t count, uint64_t bytes,
                     qf_error* err) {
  return serve(err, [&] {
    std::vector<std::string> v;
    for (uint32_t i = 0; i < count; ++i) v.emplace_back(names[i]);
    s->run->record_shard(s->format_index, name ? name : "", v, bytes);
  });
}

const void* get_extension(qf_session* s, const char* id) {
  try {
    return id ? s->run->extension(id) : nullptr;
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

const qf_session_api* session_api() {
  static const qf_session_api api = {sizeof(qf_session_api),
                                     &progress,
                                     &get_bool,
                                     &get_int,
                                     &get_float,
                                     &get_string,
                                     &linear_count,
                                     &linear_info,
                                     &read_weight,
                                     &read_bias,
                                     &write_weight,
                                     &emit_tensor,
                                     &set_quantization_config,
                                     &create_output,
                                     &record_shard,
                                     &get_extension,
                                     &create_scratch};
  return &api;
}

}  // namespace qf::host
