#pragma once
// The services a quantization run offers its plugins (qf_session_api's host side): tensors flow
// to the format chain, shard records to later formats, output files into the transaction.
#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host/output_transaction.hpp"
#include "host/session.hpp"
#include "pipeline/phase_times.hpp"
#include "pipeline/plugin_instance.hpp"
#include "pipeline/resume_state.hpp"
#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include <nlohmann/json.hpp>

namespace qf::pipeline {

// Everything a run's plugins reach through the session services.
class Run final : public host::RunServices {
 public:
  Run(host::OutputTransaction& tx, const std::atomic<bool>* cancel, std::filesystem::path model_dir)
      : tx_(tx), cancel_(cancel), model_dir_(std::move(model_dir)) {}

  // Layers handed to methods offer "qf.calibration/1" when the run has calibration data.
  bool calibrated = false;
  const void* extension(const std::string& id) override;

  std::vector<std::unique_ptr<PluginInstance>> formats;
  // While set, every emitted tensor is also kept for resuming (the layer loops set it per layer).
  ResumeStore* recorder = nullptr;
  PhaseTimes phases;

  bool progress(const std::string&, uint64_t, uint64_t) override { return !(cancel_ && cancel_->load()); }

  void emit_tensor(const std::string& name, const DLTensor& tensor) override {
    if (!emitted_.insert(name).second) throw Error("tensor '" + name + "' was emitted twice");
    if (recorder) recorder->record(name, tensor);
    ScopedPhase timed(&phases, "emit to formats");
    for (auto& f : formats) {
      host::call_plugin(f->plugin().name(), "add_tensor(" + name + ")", [&](qf_error* err) {
        return f->plugin().format()->add_tensor(f->object(), name.c_str(), &tensor, err);
      });
    }
  }

  void set_quantization_config(const std::string& json) override {
    check_json_object(json, "quantization_config");
    quant_config_ = json;
  }

  std::filesystem::path create_output(const std::string& relative_name) override { return tx_.create(relative_name); }
  std::filesystem::path create_scratch(const std::string& plugin, const std::string& name) override {
    return tx_.create("scratch/" + plugin + "-" + name);  // per plugin: two plugins may pick one name
  }

  void record_shard(int from, const std::string& file, const std::vector<std::string>& names,
                    uint64_t bytes) override {
    shards_.push_back(file);
    std::vector<const char*> raw;
    for (const auto& n : names) raw.push_back(n.c_str());
    for (size_t j = static_cast<size_t>(from) + 1; j < formats.size(); ++j) {
      auto& f = formats[j];
      host::call_plugin(f->plugin().name(), "add_shard(" + file + ")", [&](qf_error* err) {
        return f->plugin().format()->add_shard(f->object(), file.c_str(), raw.data(),
                                               static_cast<uint32_t>(raw.size()), bytes, err);
      });
    }
  }

  const std::filesystem::path& model_dir() const override { return model_dir_; }
  const std::string* method_quantization_config() const override {
    return quant_config_.empty() ? nullptr : &quant_config_;
  }
  std::vector<int32_t> encode(const std::string& text, bool add_special) override;
  void set_output_quantization_config(const std::string& json) override {
    check_json_object(json, "a format plugin's quantization_config");
    output_quant_config_ = json;
  }

  bool cancelled() const { return cancel_ && cancel_->load(); }
  // The method's quantization_config (empty while none is set).
  const std::string& quant_config() const { return quant_config_; }
  // What the output's config.json carries: a format plugin's replacement, else the method's.
  const std::string& output_quant_config() const {
    return output_quant_config_.empty() ? quant_config_ : output_quant_config_;
  }
  const std::vector<std::string>& shards() const { return shards_; }

 private:
  host::OutputTransaction& tx_;
  const std::atomic<bool>* cancel_;
  std::set<std::string> emitted_;
  std::filesystem::path model_dir_;
  std::string quant_config_, output_quant_config_;
  std::vector<std::string> shards_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;  // loaded on the first encode

  static void check_json_object(const std::string& json, const std::string& what) {
    try {
      if (!nlohmann::json::parse(json).is_object()) throw Error(what + " must be a JSON object");
    } catch (const nlohmann::json::exception& e) {
      throw Error(what + " is not valid JSON: " + e.what());
    }
  }
};

}  // namespace qf::pipeline
