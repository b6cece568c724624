#pragma once
// The host side of qf_session / qf_layer: what a plugin sees during a run, implemented by the
// pipeline. The C service table (session_api) forwards to these classes and turns every C++
// exception into a status code and message, so nothing C++ crosses into a plugin.
#include <dlpack/dlpack.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "host/options.hpp"
#include "host/service_guard.hpp"
#include "quantforge/plugin.h"

namespace qf::host {

struct LinearDesc {
  std::string name;        // "model.layers.0.self_attn.q_proj"
  std::string short_name;  // "self_attn.q_proj"
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool has_bias = false;
  uint32_t sequential_group = 0;
};

// What a run offers to every plugin taking part in it.
class RunServices {
 public:
  virtual ~RunServices() = default;
  virtual bool progress(const std::string& stage, uint64_t done, uint64_t total) = 0;
  virtual void emit_tensor(const std::string& name, const DLTensor& tensor) = 0;
  virtual void set_quantization_config(const std::string& json_object) = 0;
  virtual std::filesystem::path create_output(const std::string& relative_name) = 0;
  // A private temporary file for `plugin`, removed when the run ends and never committed.
  virtual std::filesystem::path create_scratch(const std::string& plugin, const std::string& name) = 0;
  // `from_format`: the chain position of the format plugin that wrote the shard.
  virtual void record_shard(int from_format, const std::string& relative_name, const std::vector<std::string>& names,
                            uint64_t bytes) = 0;
  virtual const void* extension(const std::string&) { return nullptr; }

  // "qf.source_model/1": the model's folder, the method's quantization_config (nullptr while
  // none is set), the model's tokenizer, and a format's replacement for the output's config.
  virtual const std::filesystem::path& model_dir() const = 0;
  virtual const std::string* method_quantization_config() const = 0;
  virtual std::vector<int32_t> encode(const std::string& text, bool add_special) = 0;
  virtual void set_output_quantization_config(const std::string& json_object) = 0;
};

// The C table of "qf.source_model/1", forwarding to a session's RunServices.
const qf_source_model_api* source_model_api();

}  // namespace qf::host

// One decoder layer as methods see it. Views handed out stay valid as the ABI promises.
struct qf_layer {
  virtual ~qf_layer() = default;
  virtual const std::vector<qf::host::LinearDesc>& linears() const = 0;
  virtual DLTensor read_weight(const std::string& short_name) = 0;  // fp32 [out, in]
  virtual DLTensor read_bias(const std::string& short_name) = 0;    // fp32 [out]; throws NotFound
  virtual void write_weight(const std::string& short_name, const DLTensor& weight) = 0;
};

// One plugin's view of a run: its resolved options and its place in the chain.
struct qf_session {
  qf::host::RunServices* run = nullptr;
  std::map<std::string, qf::host::OptionValue> options;
  std::string plugin_name;
  int format_index = -1;  // -1 for the method
  std::map<std::string, std::string> string_storage;  // keeps get_string results alive
};

namespace qf::host {

const qf_session_api* session_api();

// Calls a plugin function that reports through qf_error, converting failure into qf::Error with
// `what` and the plugin's message, and a stray C++ exception into a clear "bug in plugin" error.
template <class Call>
void call_plugin(const std::string& plugin_name, const std::string& what, Call&& call);

}  // namespace qf::host

#include "host/session_call.inl"
