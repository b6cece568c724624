#pragma once
// Which files of a model to evaluate, in any of our output layouts:
//  (a) a model folder: config.json (with or without quantization_config) and model.safetensors or
//      model.safetensors.index.json (+ shards);
//  (b) a model folder holding an in-place output (AWQ recipe): with variant "AWQ", the weights are
//      model-AWQ.safetensors.index.json (or model-AWQ.safetensors) and the scheme quant_config-AWQ.json;
//      passing the path of that index (or single file) selects the same variant;
//  (c) a complete output subfolder such as <model>/GPTQ_8bit_CPU: read as (a).
// The quantization scheme of packed weights comes from the variant's quant_config-<V>.json, else
// config.json's "quantization_config", else quantize_config.json, quant_config.json, then any
// quant_config*.json beside the weights. A checkpoint with packed Linears and no scheme is an error.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/quant_scheme.hpp"
#include "model/config.hpp"
#include "model/weight_source.hpp"

namespace qf::eval {

struct EvalModel {
  std::filesystem::path dir;              // the folder with config.json
  std::string variant;                    // "" or e.g. "AWQ"
  std::string weights_description;        // e.g. "model-AWQ.safetensors.index.json (1 file)"
  model::ModelConfig config;
  std::shared_ptr<const model::WeightSource> weights;  // dequantizes packed Linears on load
  std::optional<QuantScheme> scheme;      // set when the weights hold packed Linears
  int64_t packed_linears = 0;             // how many "<prefix>.qweight" the checkpoint holds
  std::filesystem::path tokenizer_dir;    // dir or its parent when it has tokenizer.json; else empty
  std::vector<std::string> variants;      // in-place variants present in dir (e.g. {"AWQ"})

  std::string label() const;              // path, plus " [variant V]"
  std::string summary() const;            // one line for the log
};

// `path`: a model folder or the path of a weights index / .safetensors file inside one.
// qf::Error for a missing folder or config.json, a variant that is not there (listing those that are),
// a variant contradicting the file given, packed weights without a quantization config.
EvalModel open_model_for_eval(const std::filesystem::path& path, const std::string& variant = "");

}  // namespace qf::eval
