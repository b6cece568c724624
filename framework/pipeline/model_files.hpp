#pragma once
// The non-weight files of a quantized model: config.json with quantization_config, the tokenizer
// and generation files copied from the original, and the layout's quantization config file.
#include <filesystem>
#include <functional>
#include <string>

namespace qf::pipeline {

// Returns a staging path for an output file name (OutputTransaction::create).
using CreateOutput = std::function<std::filesystem::path(const std::string&)>;

// Writes config.json = the original with "quantization_config" set to `quant_config_json`.
void write_quantized_config(const std::filesystem::path& model_dir, const std::string& quant_config_json,
                            const CreateOutput& create);
// Copies tokenizer, generation and chat-template files that exist in model_dir.
void copy_side_files(const std::filesystem::path& model_dir, const CreateOutput& create);
// Writes `quant_config_json` pretty-printed to `name`.
void write_quant_config_file(const std::string& name, const std::string& quant_config_json, const CreateOutput& create);

}  // namespace qf::pipeline
