// "qf.source_model/1": the C side of what a run tells plugins about the model it processes.
#include <cstring>
#include <string>

#include "host/session.hpp"

namespace qf::host {
namespace {

const char* model_dir(qf_session* s) {
  try {
    return s->run->model_dir().c_str();
  } catch (...) {
    return "";
  }
}

const char* quantization_config(qf_session* s) {
  try {
    const std::string* text = s->run->method_quantization_config();
    return text ? text->c_str() : nullptr;
  } catch (...) {
    return nullptr;
  }
}

int32_t encode(qf_session* s, const char* text, size_t length, bool add_special, int32_t* ids, size_t capacity,
               size_t* count, qf_error* err) {
  return serve(err, [&] {
    if (!count || (capacity > 0 && !ids)) throw ServiceError(QF_ERR_INVALID_ARGUMENT, "encode: NULL output");
    const std::vector<int32_t> out = s->run->encode(std::string(text ? text : "", text ? length : 0), add_special);
    *count = out.size();
    if (out.size() <= capacity && !out.empty()) std::memcpy(ids, out.data(), out.size() * sizeof(int32_t));
  });
}

int32_t set_output_quantization_config(qf_session* s, const char* json, qf_error* err) {
  return serve(err, [&] { s->run->set_output_quantization_config(json ? json : ""); });
}

}  // namespace

const qf_source_model_api* source_model_api() {
  static const qf_source_model_api api = {sizeof(qf_source_model_api), &model_dir, &quantization_config, &encode,
                                          &set_output_quantization_config};
  return &api;
}

}  // namespace qf::host
