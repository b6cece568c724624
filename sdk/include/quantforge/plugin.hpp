// Header-only C++ wrapper over the C ABI in plugin.h, for plugin authors.
//
// Write a class with ordinary C++ (exceptions, RAII); the adapters below turn it into the C
// function tables and convert every exception into a status code plus message at the boundary,
// so nothing C++ ever crosses into the host.
//
//   struct MyMethod {
//     explicit MyMethod(qf::sdk::Session& s);
//     qf_method_requirements requirements();
//     void quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count);
//     void finish();
//   };
//   static const qf_option_desc kOptions[] = {...};
//   QF_DEFINE_METHOD_PLUGIN(MyMethod, "my_method", "1.0", "what it does", kOptions)
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "quantforge/plugin.h"

namespace qf::sdk {

// An error with an ABI status code; thrown by the wrappers, caught by the adapters.
class PluginError : public std::runtime_error {
 public:
  PluginError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const { return code_; }

 private:
  int32_t code_;
};

inline void set_error(qf_error* err, int32_t code, const char* message) {
  if (!err) return;
  err->code = code;
  std::strncpy(err->message, message ? message : "", QF_ERROR_MESSAGE_CAPACITY - 1);
  err->message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
}

// Runs `body`, turning any exception into a status code and message. Never throws.
template <class Body>
int32_t guard(qf_error* err, Body&& body) noexcept {
  try {
    body();
    return QF_OK;
  } catch (const PluginError& e) {
    set_error(err, e.code(), e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    set_error(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
    return QF_ERR_OUT_OF_MEMORY;
  } catch (const std::invalid_argument& e) {
    set_error(err, QF_ERR_INVALID_ARGUMENT, e.what());
    return QF_ERR_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_error(err, QF_ERR_INTERNAL, e.what());
    return QF_ERR_INTERNAL;
  } catch (...) {
    set_error(err, QF_ERR_INTERNAL, "unknown exception");
    return QF_ERR_INTERNAL;
  }
}

// Throws PluginError when a host call failed.
inline void check(int32_t status, const qf_error& err) {
  if (status != QF_OK) throw PluginError(status, err.message);
}

// ---------------------------------------------------------------- process-wide host services

inline const qf_host_api*& host_api_slot() {
  static const qf_host_api* host = nullptr;
  return host;
}

inline void log(qf_log_level level, const std::string& message) {
  const qf_host_api* host = host_api_slot();
  if (host && host->log) host->log(level, message.c_str());
}

// ---------------------------------------------------------------- tensors

inline DLDataType dl_float(uint8_t bits) { return DLDataType{kDLFloat, bits, 1}; }
inline DLDataType dl_bfloat16() { return DLDataType{kDLBfloat, 16, 1}; }
inline DLDataType dl_int(uint8_t bits) { return DLDataType{kDLInt, bits, 1}; }

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
    if (values.size() * sizeof(T) != t.bytes_.size()) throw std::invalid_argument("tensor data does not match shape");
    std::memcpy(t.bytes_.data(), values.data(), t.bytes_.size());
    return t;
  }
  template <class T>
  T* data() { return reinterpret_cast<T*>(bytes_.data()); }
  const std::vector<int64_t>& shape() const { return shape_; }
  // Borrowed view, valid while this Tensor lives and is not resized.
  DLTensor view() const {
    DLTensor t{};
    t.data = const_cast<uint8_t*>(bytes_.data());
    t.device = DLDevice{kDLCPU, 0};
    t.ndim = static_cast<int32_t>(shape_.size());
    t.dtype = dtype_;
    t.shape = const_cast<int64_t*>(shape_.data());
    t.strides = nullptr;
    t.byte_offset = 0;
    return t;
  }

 private:
  std::vector<int64_t> shape_;
  DLDataType dtype_;
  std::vector<uint8_t> bytes_;
};

// IEEE half bits of a float (round half to even); used for fp16 `scales`.
inline uint16_t float_to_half_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) return static_cast<uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u));
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to infinity
  if (abs < 0x38800000u) {                                               // half subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
    const int shift = 113 - static_cast<int>(abs >> 23) + 13;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// ---------------------------------------------------------------- sessions and layers

struct LinearInfo {
  std::string name;
  std::string short_name;
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool has_bias = false;
  uint32_t sequential_group = 0;
};

// A borrowed fp32 [rows, cols] matrix owned by the host.
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
};

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
  void emit(const std::string& name, const Tensor& tensor) const {
    qf_error err{};
    DLTensor view = tensor.view();
    check(api_->emit_tensor(session_, name.c_str(), &view, &err), err);
  }
  void set_quantization_config(const std::string& json_object) const {
    qf_error err{};
    check(api_->set_quantization_config(session_, json_object.c_str(), &err), err);
  }
  std::string create_output(const std::string& relative_name) const {
    std::vector<char> path(4096);
    qf_error err{};
    check(api_->create_output(session_, relative_name.c_str(), path.data(), path.size(), &err), err);
    return std::string(path.data());
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
  const qf_session_api* api_;
  qf_session* session_;
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
  MatrixView read_weight(const std::string& short_name) const {
    DLTensor t{};
    qf_error err{};
    check(session_.api()->read_weight(layer_, short_name.c_str(), &t, &err), err);
    if (t.ndim != 2 || t.dtype.code != kDLFloat || t.dtype.bits != 32)
      throw PluginError(QF_ERR_INTERNAL, "host returned a weight view that is not fp32 [out, in]");
    return MatrixView{static_cast<const float*>(t.data) + t.byte_offset / sizeof(float), t.shape[0], t.shape[1]};
  }
  // Replaces the weight with `values` ([out, in] fp32, row-major).
  void write_weight(const std::string& short_name, const std::vector<float>& values, int64_t out, int64_t in) const {
    Tensor t = Tensor::from_vector(values, {out, in}, dl_float(32));
    DLTensor view = t.view();
    qf_error err{};
    check(session_.api()->write_weight(layer_, short_name.c_str(), &view, &err), err);
  }
  qf_layer* raw() const { return layer_; }
  const Session& session() const { return session_; }

 private:
  const Session& session_;
  qf_layer* layer_;
};

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
      *out = r;
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

}  // namespace qf::sdk

#define QF_DETAIL_DEFINE_PLUGIN(KIND, ADAPTER, INTERFACE_ID, NAME, VERSION, DESCRIPTION, OPTIONS)            \
  namespace {                                                                                                 \
  const void* qf_detail_get_interface(const char* id) {                                                      \
    return std::strcmp(id, INTERFACE_ID) == 0 ? static_cast<const void*>(ADAPTER::vtable()) : nullptr;        \
  }                                                                                                           \
  }                                                                                                           \
  extern "C" QF_PLUGIN_EXPORT const qf_plugin_descriptor* quantforge_plugin_entry(void) {                    \
    static const qf_plugin_descriptor descriptor = {                                                         \
        sizeof(qf_plugin_descriptor), QF_ABI_VERSION_MAJOR, QF_ABI_VERSION_MINOR, KIND, NAME, VERSION,         \
        DESCRIPTION, OPTIONS, static_cast<uint32_t>(sizeof(OPTIONS) / sizeof(OPTIONS[0])),                   \
        &qf::sdk::default_init, &qf::sdk::default_deinit, &qf_detail_get_interface};                           \
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
