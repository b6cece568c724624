#include "eval/model_open.hpp"

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "eval/quantized_source.hpp"
#include "safetensors/reader.hpp"

namespace fs = std::filesystem;

namespace qf::eval {
namespace {

using json = nlohmann::json;

constexpr const char* kIndexSuffix = ".safetensors.index.json";
constexpr const char* kFileSuffix = ".safetensors";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// "model-AWQ.safetensors.index.json" / "model-AWQ.safetensors" -> "AWQ"; "model.safetensors(.index.json)"
// -> ""; anything else (shards "model-00001-of-00002.safetensors", other names) -> nullopt.
std::optional<std::string> variant_of_weights_name(const std::string& name) {
  std::string stem;
  if (ends_with(name, kIndexSuffix)) {
    stem = name.substr(0, name.size() - std::string(kIndexSuffix).size());
  } else if (ends_with(name, kFileSuffix)) {
    stem = name.substr(0, name.size() - std::string(kFileSuffix).size());
  } else {
    return std::nullopt;
  }
  if (stem == "model") return std::string();
  if (!starts_with(stem, "model-") || stem.size() == 6 || stem.find("-of-") != std::string::npos) return std::nullopt;
  return stem.substr(6);
}

std::vector<std::string> list_variants(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (starts_with(name, "quant_config-") && ends_with(name, ".json") && name.size() > 18) {
      out.insert(name.substr(13, name.size() - 18));
    } else if (auto v = variant_of_weights_name(name); v && !v->empty()) {
      out.insert(*v);
    }
  }
  return {out.begin(), out.end()};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  try {
    json j;
    in >> j;
    return j;
  } catch (const json::exception& e) {
    throw Error(path.string() + ": invalid JSON: " + e.what());
  }
}

// A quantization config file: the object itself, or its "quantization_config" member when it is an
// HF config.json.
QuantScheme scheme_from_file(const fs::path& path) {
  const json j = read_json(path);
  if (j.is_object() && j.contains("quantization_config") && j.at("quantization_config").is_object())
    return parse_quant_scheme(j.at("quantization_config"), path.string() + " quantization_config");
  return parse_quant_scheme(j, path.string());
}

std::optional<QuantScheme> find_scheme(const fs::path& dir, const std::string& variant, std::vector<std::string>& looked) {
  if (!variant.empty()) {
    const fs::path p = dir / ("quant_config-" + variant + ".json");
    looked.push_back(p.string());
    if (is_file(p)) return scheme_from_file(p);
  }
  const fs::path cfg = dir / "config.json";
  looked.push_back(cfg.string() + " \"quantization_config\"");
  if (is_file(cfg)) {
    const json j = read_json(cfg);
    if (j.is_object() && j.contains("quantization_config") && j.at("quantization_config").is_object())
      return parse_quant_scheme(j.at("quantization_config"), cfg.string() + " quantization_config");
  }
  std::set<std::string> tried;
  for (const char* name : {"quantize_config.json", "quant_config.json"}) {
    const fs::path p = dir / name;
    looked.push_back(p.string());
    tried.insert(name);
    if (is_file(p)) return scheme_from_file(p);
  }
  std::vector<std::string> others;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (starts_with(name, "quant_config") && ends_with(name, ".json") && !tried.count(name)) others.push_back(name);
  }
  std::sort(others.begin(), others.end());
  looked.push_back((dir / "quant_config*.json").string());
  for (const auto& name : others)
    if (is_file(dir / name)) return scheme_from_file(dir / name);
  return std::nullopt;
}

std::vector<std::string> model_subfolders(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory(ec) && is_file(e.path() / "config.json")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string EvalModel::label() const {
  return variant.empty() ? dir.string() : dir.string() + " [variant " + variant + "]";
}

std::string EvalModel::summary() const {
  std::string s = label() + ": " + config.model_type + ", " + std::to_string(config.num_layers) + " layers, weights " +
                  weights_description;
  if (scheme) {
    s += "; " + std::to_string(packed_linears) + " packed Linears, " + scheme->describe() + " (from " + scheme->source +
         "), dequantized to fp32 as each layer loads";
  } else {
    s += "; not quantized" + (config.dtype.empty() ? std::string() : " (" + config.dtype + ")");
  }
  return s;
}

EvalModel open_model_for_eval(const fs::path& given, const std::string& requested_variant) {
  const fs::path path = given.has_filename() || !given.has_parent_path() ? given : given.parent_path();  // "dir/"
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("model not found: " + path.string());
  EvalModel m;
  std::optional<st::Checkpoint> ckpt;
  std::string variant = requested_variant;

  if (fs::is_regular_file(path, ec)) {
    const std::string name = path.filename().string();
    const std::optional<std::string> v = variant_of_weights_name(name);
    if (!ends_with(name, kIndexSuffix) && !ends_with(name, kFileSuffix))
      throw Error(path.string() + ": expected a model folder, a *.safetensors.index.json or a *.safetensors file");
    m.dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (!variant.empty() && v.value_or("") != variant)
      throw Error("--variant " + variant + " contradicts the weights file " + name +
                  (v && !v->empty() ? " (variant " + *v + ")" : ""));
    if (v) variant = *v;
    ckpt = ends_with(name, kIndexSuffix) ? st::Checkpoint::open(m.dir, name) : st::Checkpoint::open_files({path});
    m.weights_description = name;
  } else {
    m.dir = path;
    if (!variant.empty()) {
      const std::string index = "model-" + variant + kIndexSuffix, single = "model-" + variant + kFileSuffix;
      if (is_file(m.dir / index)) {
        ckpt = st::Checkpoint::open(m.dir, index);
        m.weights_description = index;
      } else if (is_file(m.dir / single)) {
        ckpt = st::Checkpoint::open_files({m.dir / single});
        m.weights_description = single;
      } else {
        const std::vector<std::string> present = list_variants(m.dir);
        throw Error("variant \"" + variant + "\" not found in " + m.dir.string() + ": looked for " + index + " and " +
                    single + (present.empty() ? "; this folder holds no in-place variants"
                                              : "; variants here: " + join(present)));
      }
    } else {
      try {
        ckpt = st::Checkpoint::open(m.dir);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::user) throw;  // hints about folders only help a wrong MODEL
        std::string msg = e.what();
        const std::vector<std::string> subs = model_subfolders(m.dir), present = list_variants(m.dir);
        if (!subs.empty()) msg += "\nmodel subfolders here (pass one as MODEL): " + join(subs);
        if (!present.empty()) msg += "\nin-place variants here (pass --variant NAME): " + join(present);
        throw Error(msg);
      }
      m.weights_description = is_file(m.dir / "model.safetensors.index.json") ? "model.safetensors.index.json"
                              : is_file(m.dir / "model.safetensors")          ? "model.safetensors"
                                                                              : "the folder's .safetensors file";
    }
  }
  m.variant = variant;
  m.weights_description += " (" + std::to_string(ckpt->files().size()) + (ckpt->files().size() == 1 ? " file)" : " files)");
  if (!is_file(m.dir / "config.json"))
    throw Error(m.dir.string() + ": no config.json (evaluation needs a Hugging Face model folder)");
  m.config = model::load_config(m.dir / "config.json");

  std::string first_packed;
  for (const auto& name : ckpt->names()) {
    if (ends_with(name, ".qweight")) {
      if (first_packed.empty()) first_packed = name;
      ++m.packed_linears;
    }
  }
  if (m.packed_linears > 0) {
    std::vector<std::string> looked;
    m.scheme = find_scheme(m.dir, variant, looked);
    if (!m.scheme) {
      std::string msg = m.label() + ": the checkpoint holds packed weights (e.g. '" + first_packed +
                        "') but no quantization config was found. Looked for:";
      for (const auto& l : looked) msg += "\n  " + l;
      throw Error(msg);
    }
  }
  m.weights = std::make_shared<QuantizedSource>(std::make_shared<model::CheckpointSource>(std::move(*ckpt)), m.scheme);
  if (is_file(m.dir / "tokenizer.json")) {
    m.tokenizer_dir = m.dir;
  } else if (m.dir.has_parent_path() && is_file(m.dir.parent_path() / "tokenizer.json")) {
    m.tokenizer_dir = m.dir.parent_path();
  }
  m.variants = list_variants(m.dir);
  return m;
}

}  // namespace qf::eval
