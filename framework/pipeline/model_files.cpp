#include "pipeline/model_files.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fs = std::filesystem;

namespace qf::pipeline {
namespace {

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + " is not valid JSON: " + e.what());
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw Error("cannot write " + path.string());
}

}  // namespace

void write_quantized_config(const fs::path& model_dir, const std::string& quant_config_json,
                            const CreateOutput& create) {
  const fs::path source = model_dir / "config.json";
  std::ifstream in(source, std::ios::binary);
  if (!in) throw Error("cannot read " + source.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json config = parse_json(text, source.string());
  // A run without a method (`convert`) leaves the config as the model has it.
  if (!quant_config_json.empty())
    config["quantization_config"] = parse_json(quant_config_json, "the method's quantization_config");
  // transformers writes indent 2 with sorted keys and a final newline; nlohmann sorts object keys.
  write_text(create("config.json"), config.dump(2) + "\n");
}

void copy_side_files(const fs::path& model_dir, const CreateOutput& create) {
  static const char* const kFiles[] = {"tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json",
                                       "generation_config.json", "tokenizer.model",   "vocab.json",
                                       "merges.txt",         "added_tokens.json",     "chat_template.jinja",
                                       "chat_template.json", "preprocessor_config.json"};
  for (const char* name : kFiles) {
    const fs::path src = model_dir / name;
    std::error_code ec;
    if (!fs::is_regular_file(src, ec)) continue;
    fs::copy_file(src, create(name), fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error("cannot copy " + src.string() + ": " + ec.message());
  }
}

void write_quant_config_file(const std::string& name, const std::string& quant_config_json,
                             const CreateOutput& create) {
  write_text(create(name), parse_json(quant_config_json, "the method's quantization_config").dump(2) + "\n");
}

}  // namespace qf::pipeline
