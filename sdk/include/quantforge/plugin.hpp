// Header-only C++ wrapper over the whole C ABI in plugin.h, for plugin authors.
//
// Write a class with ordinary C++ (exceptions, RAII); the adapters below turn it into the C
// function tables and convert every exception into a status code plus message at the boundary,
// so nothing C++ ever crosses into the host. Host calls that fail throw PluginError with the
// host's code, so a user error, a bug, out of memory or a cancellation stays what it is.
//
//   struct MyMethod {
//     explicit MyMethod(qf::sdk::Session& s);
//     qf_method_requirements requirements();
//     void quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count);
//     void finish();
//   };
//   static const qf_option_desc kOptions[] = {...};
//   QF_DEFINE_METHOD_PLUGIN(MyMethod, "my_method", "1.0", "what it does", kOptions)
//
// Views (DLTensor, MatrixView) returned by the wrappers borrow host memory: they are valid as long
// as plugin.h says for the underlying call. Plugins that use LibTorch convert them with
// quantforge/aten_dlpack.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "quantforge/errors.hpp"
#include "quantforge/half.hpp"  // float_to_half_bits for fp16 `scales`
#include "quantforge/plugin.h"
#include "quantforge/struct_copy.hpp"

namespace qf::sdk {

// ---------------------------------------------------------------- process-wide host services

inline const qf_host_api*& host_api_slot() {
  static const qf_host_api* host = nullptr;
  return host;
}

// Logs through the host, which prefixes the plugin's name (hosts before 1.2: only during a call).
inline void log(qf_log_level level, const std::string& message) {
  const qf_host_api* host = host_api_slot();
  if (!host) return;
  if (QF_HAS_FIELD(host, qf_host_api, log_message))
    host->log_message(host, level, message.c_str());
  else if (host->log)
    host->log(level, message.c_str());
}

// ---------------------------------------------------------------- tensors

inline DLDataType dl_float(uint8_t bits) { return DLDataType{kDLFloat, bits, 1}; }
inline DLDataType dl_bfloat16() { return DLDataType{kDLBfloat, 16, 1}; }
inline DLDataType dl_int(uint8_t bits) { return DLDataType{kDLInt, bits, 1}; }

inline bool is_fp32(const DLDataType& t) { return t.code == kDLFloat && t.bits == 32 && t.lanes == 1; }

// A borrowed view of contiguous CPU memory as a DLTensor; `shape` must outlive the view.
inline DLTensor dl_view(void* data, const std::vector<int64_t>& shape, DLDataType dtype) {
  DLTensor t{};
  t.data = data;
  t.device = DLDevice{kDLCPU, 0};
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = dtype;
  t.shape = const_cast<int64_t*>(shape.data());
  t.strides = nullptr;
  t.byte_offset = 0;
  return t;
}
// A temporary shape would dangle as soon as the statement ends.
DLTensor dl_view(void* data, std::vector<int64_t>&& shape, DLDataType dtype) = delete;

// An owned, contiguous CPU tensor that can be lent to the host as a DLTensor view.
class Tensor {
 public:
  Tensor(std::vector<int64_t> shape, DLDataType dtype) : shape_(std::move(shape)), dtype_(dtype) {
    int64_t n = 1;
    for (int64_t d : shape_) n *= d;
    bytes_.resize(static_cast<size_t>(n) * (dtype.bits / 8));
  }
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, std::vector<int64_t> shape, DLDataType dtype) {
    Tensor t(std::move(shape), dtype);
    if (values.size() * sizeof(T) != t.bytes_.size())
      throw PluginError(QF_ERR_INTERNAL, "tensor data does not match its shape (a bug in the plugin)");
    std::memcpy(t.bytes_.data(), values.data(), t.bytes_.size());
    return t;
  }
  template <class T>
  T* data() { return reinterpret_cast<T*>(bytes_.data()); }
  const std::vector<int64_t>& shape() const { return shape_; }
  // Borrowed view, valid while this Tensor lives and is not resized.
  DLTensor view() const& { return dl_view(const_cast<uint8_t*>(bytes_.data()), shape_, dtype_); }
  DLTensor view() const&& = delete;  // a view of a temporary would dangle

 private:
  std::vector<int64_t> shape_;
  DLDataType dtype_;
  std::vector<uint8_t> bytes_;
};

// A borrowed fp32 [rows, cols] row-major matrix owned by the host.
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

// An fp32 2-D DLTensor as a MatrixView; anything else is a host bug.
inline MatrixView as_matrix(const DLTensor& t, const std::string& what) {
  if (t.ndim != 2 || !is_fp32(t.dtype) || t.device.device_type != kDLCPU ||
      (t.strides && (t.strides[1] != 1 || t.strides[0] != t.shape[1])))
    throw PluginError(QF_ERR_INTERNAL, "the host returned " + what + " that is not a contiguous fp32 [rows, cols] "
                                       "CPU matrix (a bug in the host)");
  return MatrixView{reinterpret_cast<const float*>(static_cast<const char*>(t.data) + t.byte_offset), t.shape[0],
                    t.shape[1]};
}

// ---------------------------------------------------------------- sessions, layers, calibration

struct LinearInfo {
  std::string name;        // "model.layers.0.self_attn.q_proj"
  std::string short_name;  // "self_attn.q_proj"
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool has_bias = false;
  uint32_t sequential_group = 0;
};

struct ScalingGroup {
  std::string prev_op;               // "input_layernorm", "self_attn.v_proj", ...
  std::vector<std::string> linears;  // short names sharing prev_op's output as input
  std::string inspect;               // module whose output the search compares
};

struct CalibrationShape {
  int64_t blocks = 0;
  int64_t block_length = 0;
  int64_t tokens = 0;
  // 1.4: this process's blocks are first_block.. of all_blocks (a distributed run gives each rank
  // a share); hosts before 1.4 never split: 0 and blocks.
  int64_t first_block = 0;
  int64_t all_blocks = 0;
  int32_t rank = 0;   // 1.4: this process among `ranks` (older hosts: 0 of 1)
  int32_t ranks = 1;
};

class Calibration;

class Session {
 public:
  Session(const qf_session_api* api, qf_session* session) : api_(api), session_(session) {}

  bool get_bool(const char* name) const { return get<bool>(api_->get_bool, name); }
  int64_t get_int(const char* name) const { return get<int64_t>(api_->get_int, name); }
  double get_float(const char* name) const { return get<double>(api_->get_float, name); }
  std::string get_string(const char* name) const { return get<const char*>(api_->get_string, name); }

  // False when the user cancelled.
  bool progress(const char* stage, uint64_t done, uint64_t total) const {
    return api_->progress(session_, stage, done, total);
  }
  // Throws PluginError(QF_ERR_CANCELLED) once the user has asked to stop.
  void stop_if_cancelled(const char* stage) const {
    if (!progress(stage, 0, 0)) throw PluginError(QF_ERR_CANCELLED, "cancelled");
  }

  // Emits an output tensor; the host copies it before returning, so `tensor` may be any view.
  void emit(const std::string& name, const DLTensor& tensor) const {
    qf_error err{};
    check(api_->emit_tensor(session_, name.c_str(), &tensor, &err), err);
  }
  void emit(const std::string& name, const Tensor& tensor) const { emit(name, tensor.view()); }

  void set_quantization_config(const std::string& json_object) const {
    qf_error err{};
    check(api_->set_quantization_config(session_, json_object.c_str(), &err), err);
  }
  // Path of a staged output file the plugin writes completely; committed with the whole run.
  std::string create_output(const std::string& relative_name) const {
    return path_from(api_->create_output, relative_name);
  }
  // Path of a private scratch file, deleted when the run ends, never committed.
  std::string create_scratch(const std::string& name) const {
    if (QF_HAS_FIELD(api_, qf_session_api, create_scratch)) return path_from(api_->create_scratch, name);
    return create_output(".scratch/" + name);  // how hosts before 1.2 offered scratch files
  }
  void record_shard(const std::string& relative_name, const std::vector<std::string>& names, uint64_t bytes) const {
    std::vector<const char*> raw;
    raw.reserve(names.size());
    for (const auto& n : names) raw.push_back(n.c_str());
    qf_error err{};
    check(api_->record_shard(session_, relative_name.c_str(), raw.data(), static_cast<uint32_t>(raw.size()), bytes,
                             &err),
          err);
  }
  const void* extension(const char* id) const { return api_->get_extension ? api_->get_extension(session_, id) : nullptr; }
  const qf_session_api* api() const { return api_; }
  qf_session* raw() const { return session_; }

 private:
  template <class T, class Fn>
  T get(Fn fn, const char* name) const {
    T value{};
    qf_error err{};
    check(fn(session_, name, &value, &err), err);
    return value;
  }
  template <class Fn>
  std::string path_from(Fn fn, const std::string& name) const {
    std::vector<char> path(4096);
    qf_error err{};
    check(fn(session_, name.c_str(), path.data(), path.size(), &err), err);
    return std::string(path.data());
  }
  const qf_session_api* api_;
  qf_session* session_;
};

// The "qf.source_model/1" extension (hosts from 1.3): the model's folder, the method's
// quantization_config, the model's tokenizer. Throws PluginError(QF_ERR_UNSUPPORTED) naming
// `who` when the host does not offer it.
class SourceModel {
 public:
  SourceModel(const Session& session, const std::string& who) : session_(session) {
    api_ = static_cast<const qf_source_model_api*>(session.extension(QF_SOURCE_MODEL_EXTENSION_ID));
    if (!api_)
      throw PluginError(QF_ERR_UNSUPPORTED, who + " needs the host's source-model service (" QF_SOURCE_MODEL_EXTENSION_ID
                                              ", QuantForge 1.3 or later)");
  }
  std::string model_dir() const { return api_->model_dir(session_.raw()); }
  // Empty when the run does not quantize (or the method has not set one yet).
  std::string quantization_config() const {
    const char* text = api_->quantization_config(session_.raw());
    return text ? text : "";
  }
  std::vector<int32_t> encode(const std::string& text, bool add_special) const {
    std::vector<int32_t> ids(text.size() + 8);
    for (;;) {
      size_t count = 0;
      qf_error err{};
      check(api_->encode(session_.raw(), text.data(), text.size(), add_special, ids.data(), ids.size(), &count, &err),
            err);
      if (count <= ids.size()) {
        ids.resize(count);
        return ids;
      }
      ids.resize(count);
    }
  }
  void set_output_quantization_config(const std::string& json_object) const {
    qf_error err{};
    check(api_->set_output_quantization_config(session_.raw(), json_object.c_str(), &err), err);
  }

 private:
  const Session& session_;
  const qf_source_model_api* api_ = nullptr;
};

class Layer {
 public:
  Layer(const Session& session, qf_layer* layer) : session_(session), layer_(layer) {}

  std::vector<LinearInfo> linears() const {
    const qf_session_api* api = session_.api();
    std::vector<LinearInfo> out;
    const uint32_t n = api->linear_count(layer_);
    for (uint32_t i = 0; i < n; ++i) {
      qf_linear_info info{};
      info.struct_size = sizeof(info);
      qf_error err{};
      check(api->linear_info(layer_, i, &info, &err), err);
      out.push_back(LinearInfo{info.name, info.short_name, info.in_features, info.out_features, info.has_bias,
                               info.sequential_group});
    }
    return out;
  }
  // Borrowed fp32 [out, in]: valid until the next write of this linear or the end of the layer.
  MatrixView read_weight(const std::string& short_name) const {
    DLTensor t{};
    qf_error err{};
    check(session_.api()->read_weight(layer_, short_name.c_str(), &t, &err), err);
    return as_matrix(t, "the weight of " + short_name);
  }
  // Borrowed fp32 [out]; std::nullopt when the linear has no bias.
  std::optional<std::vector<float>> read_bias(const std::string& short_name) const {
    DLTensor t{};
    qf_error err{};
    const int32_t status = session_.api()->read_bias(layer_, short_name.c_str(), &t, &err);
    if (status == QF_ERR_NOT_FOUND) return std::nullopt;
    check(status, err);
    const float* p = reinterpret_cast<const float*>(static_cast<const char*>(t.data) + t.byte_offset);
    return std::vector<float>(p, p + (t.ndim == 1 ? t.shape[0] : 0));
  }
  // Replaces the weight with `weight` ([out, in], any float dtype; the host copies it).
  void write_weight(const std::string& short_name, const DLTensor& weight) const {
    qf_error err{};
    check(session_.api()->write_weight(layer_, short_name.c_str(), &weight, &err), err);
  }
  // The same from fp32 row-major memory, without a copy on the plugin's side.
  void write_weight(const std::string& short_name, const float* values, int64_t out, int64_t in) const {
    const std::vector<int64_t> shape{out, in};
    write_weight(short_name, dl_view(const_cast<float*>(values), shape, dl_float(32)));
  }
  void write_weight(const std::string& short_name, const std::vector<float>& values, int64_t out, int64_t in) const {
    if (static_cast<int64_t>(values.size()) != out * in)
      throw PluginError(QF_ERR_INTERNAL, "write_weight(" + short_name + "): values do not match [out, in]");
    write_weight(short_name, values.data(), out, in);
  }
  // The host's calibration services for this layer; throws PluginError(QF_ERR_UNSUPPORTED) naming
  // `who` when the host offers none.
  Calibration calibration(const std::string& who) const;

  qf_layer* raw() const { return layer_; }
  const Session& session() const { return session_; }

 private:
  const Session& session_;
  qf_layer* layer_;
};

// "qf.calibration/1" for one layer: inputs, Gram matrices, module runs and scaling.
class Calibration {
 public:
  Calibration(const qf_calibration_api* api, qf_layer* layer) : api_(api), layer_(layer) {}

  // Borrowed fp32 [tokens, in] inputs of the linear; invalid after any weight change.
  DLTensor captured_input(const std::string& short_name) const {
    DLTensor t{};
    qf_error err{};
    check(api_->captured_input(layer_, short_name.c_str(), &t, &err), err);
    if (t.ndim != 2 || !is_fp32(t.dtype))
      throw PluginError(QF_ERR_INTERNAL, "the host returned a captured input of " + short_name +
                                             " that is not fp32 [tokens, in] (a bug in the host)");
    return t;
  }
  // Writes sum(x x^T) into `gram` (caller-allocated fp32 [in, in]); returns the token count.
  int64_t input_gram(const std::string& short_name, const DLTensor& gram) const {
    int64_t tokens = 0;
    qf_error err{};
    DLTensor out = gram;
    check(api_->input_gram(layer_, short_name.c_str(), &out, &tokens, &err), err);
    return tokens;
  }
  // Runs `module` on `input` ([tokens, in] fp32, whole calibration blocks) into `output`
  // (caller-allocated fp32 [tokens, out]). Throws PluginError(QF_ERR_CANCELLED) on interrupt.
  void run_module(const std::string& module, const DLTensor& input, const DLTensor& output) const {
    qf_error err{};
    DLTensor out = output;
    check(api_->run_module(layer_, module.c_str(), &input, &out, &err), err);
  }
  // Divides prev_op's output channels by `scales` and multiplies the linears' inputs by them.
  void scale_previous_op(const std::string& prev_op, const std::vector<std::string>& linears,
                         const DLTensor& scales) const {
    std::vector<const char*> names;
    for (const auto& l : linears) names.push_back(l.c_str());
    qf_error err{};
    check(api_->scale_previous_op(layer_, prev_op.c_str(), names.data(), static_cast<uint32_t>(names.size()),
                                  &scales, &err),
          err);
  }
  std::vector<ScalingGroup> scaling_groups() const {
    std::vector<ScalingGroup> out;
    const uint32_t n = api_->scaling_group_count(layer_);
    for (uint32_t i = 0; i < n; ++i) {
      qf_scaling_group g{};
      g.struct_size = sizeof(g);
      qf_error err{};
      check(api_->scaling_group(layer_, i, &g, &err), err);
      ScalingGroup r;
      r.prev_op = g.prev_op ? g.prev_op : "";
      for (uint32_t j = 0; j < g.linear_count; ++j) r.linears.emplace_back(g.linears[j]);
      r.inspect = g.inspect ? g.inspect : "";
      out.push_back(std::move(r));
    }
    return out;
  }
  // Lets the host drop its copy of the linear's input now (1.1); a no-op on older hosts.
  void release_captured(const std::string& short_name) const {
    if (QF_HAS_FIELD(api_, qf_calibration_api, release_captured)) api_->release_captured(layer_, short_name.c_str());
  }
  // The calibration set's blocks and block length (1.2); std::nullopt from older hosts.
  std::optional<CalibrationShape> shape() const {
    if (!QF_HAS_FIELD(api_, qf_calibration_api, calibration_shape)) return std::nullopt;
    qf_calibration_shape s{};
    s.struct_size = sizeof(s);
    qf_error err{};
    check(api_->calibration_shape(layer_, &s, &err), err);
    // copy_out keeps our struct_size: the host's table tells its version (1.4 fills the split).
    const bool split_known = QF_HAS_FIELD(api_, qf_calibration_api, all_reduce_sum);
    return CalibrationShape{s.blocks,
                            s.block_length,
                            s.tokens,
                            split_known ? s.first_block : 0,
                            split_known ? s.all_blocks : s.blocks,
                            split_known ? s.rank : 0,
                            split_known ? std::max<int32_t>(1, s.ranks) : 1};
  }
  // Sums `inout` (contiguous CPU float32/float64/int64, the caller's) over the ranks of a
  // distributed run in place (1.4). Hosts before 1.4 never run distributed: nothing to do.
  // Collective: every rank must make the same calls in the same order.
  void all_reduce_sum(const DLTensor& inout) const {
    if (!QF_HAS_FIELD(api_, qf_calibration_api, all_reduce_sum)) return;
    qf_error err{};
    DLTensor t = inout;
    check(api_->all_reduce_sum(layer_, &t, &err), err);
  }
  const qf_calibration_api* api() const { return api_; }

 private:
  const qf_calibration_api* api_;
  qf_layer* layer_;
};

inline Calibration Layer::calibration(const std::string& who) const {
  const auto* api = static_cast<const qf_calibration_api*>(session_.extension(QF_CALIBRATION_EXTENSION_ID));
  if (!api || api->struct_size < QF_SIZE_CALIBRATION_API_1_0)
    throw PluginError(QF_ERR_UNSUPPORTED, who + " needs the host's calibration service (" QF_CALIBRATION_EXTENSION_ID
                                                "), which this host does not offer");
  return Calibration(api, layer_);
}

// ---------------------------------------------------------------- adapters

template <class M>
struct MethodAdapter {
  struct Instance {
    Session session;
    std::unique_ptr<M> method;
  };
  static int32_t create(const qf_session_api* api, qf_session* s, void** out, qf_error* err) {
    return guard(err, [&] {
      auto inst = std::make_unique<Instance>(Instance{Session(api, s), nullptr});
      inst->method = std::make_unique<M>(inst->session);
      *out = inst.release();
    });
  }
  static int32_t requirements(void* p, qf_method_requirements* out, qf_error* err) {
    return guard(err, [&] {
      qf_method_requirements r = static_cast<Instance*>(p)->method->requirements();
      r.struct_size = sizeof(r);
      qf::abi::copy_out(out, r);
    });
  }
  static int32_t quantize_layer(void* p, qf_layer* layer, uint32_t index, uint32_t count, qf_error* err) {
    return guard(err, [&] {
      auto* inst = static_cast<Instance*>(p);
      Layer l(inst->session, layer);
      inst->method->quantize_layer(l, index, count);
    });
  }
  static int32_t finish(void* p, qf_error* err) {
    return guard(err, [&] { static_cast<Instance*>(p)->method->finish(); });
  }
  static void destroy(void* p) noexcept { delete static_cast<Instance*>(p); }
  static const qf_method_vtable* vtable() {
    static const qf_method_vtable table = {sizeof(qf_method_vtable), &create, &requirements, &quantize_layer, &finish,
                                           &destroy};
    return &table;
  }
};

template <class F>
struct FormatAdapter {
  struct Instance {
    Session session;
    std::unique_ptr<F> format;
  };
  static int32_t create(const qf_session_api* api, qf_session* s, void** out, qf_error* err) {
    return guard(err, [&] {
      auto inst = std::make_unique<Instance>(Instance{Session(api, s), nullptr});
      inst->format = std::make_unique<F>(inst->session);
      *out = inst.release();
    });
  }
  static int32_t add_tensor(void* p, const char* name, const DLTensor* t, qf_error* err) {
    return guard(err, [&] { static_cast<Instance*>(p)->format->add_tensor(name, *t); });
  }
  static int32_t add_shard(void* p, const char* file, const char* const* names, uint32_t n, uint64_t bytes,
                           qf_error* err) {
    return guard(err, [&] {
      std::vector<std::string> v(names, names + n);
      static_cast<Instance*>(p)->format->add_shard(file, v, bytes);
    });
  }
  static int32_t finish(void* p, qf_error* err) {
    return guard(err, [&] { static_cast<Instance*>(p)->format->finish(); });
  }
  static void destroy(void* p) noexcept { delete static_cast<Instance*>(p); }
  static const qf_format_vtable* vtable() {
    static const qf_format_vtable table = {sizeof(qf_format_vtable), &create, &add_tensor, &add_shard, &finish,
                                           &destroy};
    return &table;
  }
};

inline int32_t default_init(const qf_host_api* host, qf_error*) {
  host_api_slot() = host;
  return QF_OK;
}
inline void default_deinit() { host_api_slot() = nullptr; }

// qf_plugin_descriptor.get_option over a static option array.
template <size_t N>
int32_t option_from_array(const qf_option_desc (&options)[N], uint32_t index, qf_option_desc* out, qf_error* err) {
  if (index >= N || out == nullptr) {
    set_error(err, QF_ERR_NOT_FOUND, "option index " + std::to_string(index) + " out of range");
    return QF_ERR_NOT_FOUND;
  }
  qf_option_desc filled = options[index];
  filled.struct_size = sizeof(qf_option_desc);
  qf::abi::copy_out(out, filled);
  return QF_OK;
}

// The descriptor's `options` array in the frozen 1.0 layout, made from the plugin's option table
// (which may be a newer, larger qf_option_desc), for hosts that read the array.
template <size_t N>
std::array<qf_option_desc_1_0, N> legacy_options(const qf_option_desc (&options)[N]) {
  std::array<qf_option_desc_1_0, N> out{};
  for (size_t i = 0; i < N; ++i)
    out[i] = {QF_SIZE_OPTION_DESC_1_0, options[i].name, options[i].type, options[i].default_value, options[i].help};
  return out;
}

}  // namespace qf::sdk

#define QF_DETAIL_DEFINE_PLUGIN(KIND, ADAPTER, INTERFACE_ID, NAME, VERSION, DESCRIPTION, OPTIONS)            \
  namespace {                                                                                                 \
  const void* qf_detail_get_interface(const char* id) {                                                      \
    return id && std::strcmp(id, INTERFACE_ID) == 0 ? static_cast<const void*>(ADAPTER::vtable()) : nullptr;  \
  }                                                                                                           \
  int32_t qf_detail_get_option(uint32_t index, qf_option_desc* out, qf_error* err) {                         \
    return qf::sdk::option_from_array(OPTIONS, index, out, err);                                              \
  }                                                                                                           \
  }                                                                                                           \
  extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) {                    \
    static const auto legacy_options = qf::sdk::legacy_options(OPTIONS);                                     \
    static const qf_plugin_descriptor descriptor = {                                                         \
        sizeof(qf_plugin_descriptor), QF_ABI_VERSION_MAJOR, QF_ABI_VERSION_MINOR, KIND, NAME, VERSION,         \
        DESCRIPTION, legacy_options.data(), static_cast<uint32_t>(sizeof(OPTIONS) / sizeof(OPTIONS[0])),     \
        &qf::sdk::default_init, &qf::sdk::default_deinit, &qf_detail_get_interface, &qf_detail_get_option};    \
    return &descriptor;                                                                                        \
  }

// Defines the entry symbol for a method plugin implemented by class CLASS.
#define QF_DEFINE_METHOD_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS)                                \
  QF_DETAIL_DEFINE_PLUGIN(QF_KIND_METHOD, qf::sdk::MethodAdapter<CLASS>, QF_METHOD_INTERFACE_ID, NAME, VERSION, \
                          DESCRIPTION, OPTIONS)

// Defines the entry symbol for a format plugin implemented by class CLASS.
#define QF_DEFINE_FORMAT_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, OPTIONS)                                \
  QF_DETAIL_DEFINE_PLUGIN(QF_KIND_FORMAT, qf::sdk::FormatAdapter<CLASS>, QF_FORMAT_INTERFACE_ID, NAME, VERSION, \
                          DESCRIPTION, OPTIONS)
