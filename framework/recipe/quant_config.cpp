// load_quant_config: AutoAWQ / GPTQ quantization config files (JSON or TOML) as flat scalar options.
#include "recipe/quant_config.hpp"

#include <cctype>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "recipe/toml_support.hpp"

namespace qf::recipe {
namespace {

using Options = std::map<std::string, SourcedValue>;

void note(QuantConfigFile& out, const std::string& line) { out.notes.push_back(line); }

// AutoAWQ's from_dict lower-cases version ("GEMM" -> "gemm").
void normalize(Options& out) {
  if (auto it = out.find("version"); it != out.end())
    if (auto* s = std::get_if<std::string>(&it->second.value))
      for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// ---- JSON ----------------------------------------------------------------------------------------

const char* json_type(const nlohmann::json& j) {
  if (j.is_object()) return "object";
  if (j.is_array()) return "array";
  if (j.is_null()) return "null";
  return j.type_name();
}

std::optional<OptionValue> json_scalar(const nlohmann::json& j, const std::string& file, const std::string& key) {
  if (j.is_boolean()) return OptionValue{j.get<bool>()};
  if (j.is_number_unsigned()) {
    const auto u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) throw qf::Error(file + ": '" + key + "' is out of the integer range");
    return OptionValue{static_cast<int64_t>(u)};
  }
  if (j.is_number_integer()) return OptionValue{j.get<int64_t>()};
  if (j.is_number_float()) return OptionValue{j.get<double>()};
  if (j.is_string()) return OptionValue{j.get<std::string>()};
  return std::nullopt;
}

void from_json(const std::string& text, const std::string& file, QuantConfigFile& qc) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw qf::Error(file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                    ": JSON syntax error in quant_config file: " + e.what());
  }
  if (!root.is_object())
    throw qf::Error(file + ": quant_config must be a JSON object at the top level, got " + json_type(root));
  const nlohmann::json* top = &root;
  std::string prefix;
  if (auto it = root.find("quantization_config"); it != root.end() && it->is_object()) {
    top = &*it;
    prefix = "quantization_config.";
    note(qc, file + ": reading its 'quantization_config' object (an HF config.json); other keys ignored");
  }
  Options& out = qc.options;
  const nlohmann::json* meta = nullptr;
  for (auto it = top->begin(); it != top->end(); ++it) {
    const std::string key = it.key();
    if (auto v = json_scalar(it.value(), file, prefix + key)) {
      out[key] = SourcedValue{std::move(*v), file + ": " + prefix + key};
    } else if (key == "meta" && it.value().is_object()) {
      meta = &it.value();
    } else {
      qc.non_scalars[key] = json_type(it.value());
      note(qc, file + ": skipped '" + prefix + key + "' (" + json_type(it.value()) + ", not a scalar option)");
    }
  }
  if (meta != nullptr) {
    for (auto it = meta->begin(); it != meta->end(); ++it) {
      const std::string key = it.key();
      const std::string path = prefix + "meta." + key;
      auto v = json_scalar(it.value(), file, path);
      if (!v) {
        qc.non_scalars["meta." + key] = json_type(it.value());
        note(qc, file + ": skipped '" + path + "' (" + json_type(it.value()) + ", not a scalar option)");
      } else if (out.count(key) != 0) {
        note(qc, file + ": skipped '" + path + "' (top-level '" + key + "' wins)");
      } else {
        out[key] = SourcedValue{std::move(*v), file + ": " + path};
        qc.from_meta.insert(key);
      }
    }
  }
}

// ---- TOML ----------------------------------------------------------------------------------------

void from_toml(const std::string& text, const std::string& file, QuantConfigFile& qc) {
  const toml::table root = detail::parse_toml(text, file);
  const toml::table* top = &root;
  std::string prefix;
  if (const toml::table* hf = root["quantization_config"].as_table()) {
    top = hf;
    prefix = "quantization_config.";
    note(qc, file + ": reading its [quantization_config] table; other keys ignored");
  }
  Options& out = qc.options;
  const toml::table* meta = nullptr;
  for (auto&& [k, v] : *top) {
    const std::string key(k.str());
    if (auto value = detail::scalar_of(v)) {
      out[key] = SourcedValue{std::move(*value), detail::at(file, v.source()) + ": " + prefix + key};
    } else if (key == "meta" && v.is_table()) {
      meta = v.as_table();
    } else {
      qc.non_scalars[key] = detail::toml_type_name(v.type());
      note(qc, detail::at(file, v.source()) + ": skipped '" + prefix + key + "' (" + detail::toml_type_name(v.type()) +
                   ", not a scalar option)");
    }
  }
  if (meta != nullptr) {
    for (auto&& [k, v] : *meta) {
      const std::string key(k.str());
      const std::string path = prefix + "meta." + key;
      auto value = detail::scalar_of(v);
      if (!value) {
        qc.non_scalars["meta." + key] = detail::toml_type_name(v.type());
        note(qc, detail::at(file, v.source()) + ": skipped '" + path + "' (" + detail::toml_type_name(v.type()) +
                     ", not a scalar option)");
      } else if (out.count(key) != 0) {
        note(qc, detail::at(file, v.source()) + ": skipped '" + path + "' (top-level '" + key + "' wins)");
      } else {
        out[key] = SourcedValue{std::move(*value), detail::at(file, v.source()) + ": " + path};
        qc.from_meta.insert(key);
      }
    }
  }
}

bool looks_like_json(const std::filesystem::path& path, const std::string& text) {
  const std::string ext = path.extension().string();
  if (ext == ".json") return true;
  if (ext == ".toml") return false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    return c == '{' || c == '[';
  }
  return false;
}

}  // namespace

QuantConfigFile read_quant_config(const std::filesystem::path& path) {
  const std::string file = path.generic_string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw qf::Error(file + ": is a directory, not a quant_config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw qf::Error(file + ": cannot open quant_config file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw qf::Error(file + ": cannot read quant_config file");
  const std::string text = buf.str();
  QuantConfigFile qc;
  qc.file = file;
  if (looks_like_json(path, text)) {
    from_json(text, file, qc);
  } else {
    from_toml(text, file, qc);
  }
  normalize(qc.options);
  return qc;
}

std::map<std::string, SourcedValue> load_quant_config(const std::filesystem::path& path,
                                                      std::vector<std::string>* warnings) {
  QuantConfigFile qc = read_quant_config(path);
  if (warnings != nullptr) warnings->insert(warnings->end(), qc.notes.begin(), qc.notes.end());
  return std::move(qc.options);
}

}  // namespace qf::recipe
