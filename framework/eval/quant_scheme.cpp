#include "eval/quant_scheme.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace qf::eval {
namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

const json* first_of(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (j.contains(k) && !j.at(k).is_null()) return &j.at(k);
  return nullptr;
}

int64_t int_of(const json& v, const std::string& key, const std::string& source) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>())))
    return static_cast<int64_t>(v.get<double>());
  throw Error(source + ": \"" + key + "\" must be an integer, got " + v.dump());
}

std::string string_of(const json& v, const std::string& key, const std::string& source) {
  if (!v.is_string()) throw Error(source + ": \"" + key + "\" must be a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace

std::string QuantScheme::describe() const {
  std::string s = method == Method::Awq ? "AWQ GEMM" : (gptq_v1 ? "GPTQ v1" : "GPTQ v2");
  s += " " + std::to_string(bits) + "-bit";
  s += group_size > 0 ? " g" + std::to_string(group_size) : " per-row";
  return s;
}

QuantScheme parse_quant_scheme(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": the quantization config must be a JSON object");
  QuantScheme s;
  s.source = source;
  if (const json* m = first_of(j, {"quant_method"})) {
    const std::string method = lower(string_of(*m, "quant_method", source));
    if (method == "gptq") {
      s.method = QuantScheme::Method::Gptq;
    } else if (method == "awq") {
      s.method = QuantScheme::Method::Awq;
    } else {
      throw Error(source + ": quant_method \"" + method +
                  "\" is not supported by eval (supported: gptq with checkpoint_format gptq/gptq_v2, awq with "
                  "version gemm)");
    }
  } else if (first_of(j, {"w_bit", "q_group_size", "version", "zero_point"})) {
    s.method = QuantScheme::Method::Awq;  // AutoAWQ's legacy quant_config.json has no quant_method
  } else if (first_of(j, {"bits", "wbits"})) {
    s.method = QuantScheme::Method::Gptq;  // older AutoGPTQ quantize_config.json
  } else {
    throw Error(source + ": not a quantization config (no quant_method, bits or w_bit)");
  }

  if (const json* b = first_of(j, {"bits", "w_bit", "wbits"})) {
    s.bits = static_cast<int>(int_of(*b, "bits", source));
  } else if (s.method == QuantScheme::Method::Gptq) {
    throw Error(source + ": GPTQ config without \"bits\"");
  }
  if (const json* g = first_of(j, {"group_size", "q_group_size"})) s.group_size = int_of(*g, "group_size", source);
  if (s.group_size == 0 || s.group_size < -1)
    throw Error(source + ": group_size must be positive or -1, got " + std::to_string(s.group_size));

  if (s.method == QuantScheme::Method::Gptq) {
    if (s.bits != 2 && s.bits != 4 && s.bits != 8)
      throw Error(source + ": GPTQ bits " + std::to_string(s.bits) + " is not supported by eval (2, 4 or 8)");
    std::string format = "gptq";
    if (const json* f = first_of(j, {"checkpoint_format", "format"})) format = lower(string_of(*f, "checkpoint_format", source));
    if (format == "gptq") {
      s.gptq_v1 = true;
    } else if (format == "gptq_v2") {
      s.gptq_v1 = false;
    } else {
      throw Error(source + ": GPTQ checkpoint_format \"" + format + "\" is not supported by eval (gptq or gptq_v2)");
    }
  } else {
    if (s.bits != 4) throw Error(source + ": AWQ GEMM packs 4-bit codes, config says bits " + std::to_string(s.bits));
    if (s.group_size <= 0) throw Error(source + ": AWQ needs a positive group size");
    if (const json* v = first_of(j, {"version"})) {
      const std::string version = lower(string_of(*v, "version", source));
      if (version != "gemm")
        throw Error(source + ": AWQ version \"" + version + "\" is not supported by eval (only gemm)");
    }
    if (const json* z = first_of(j, {"zero_point"}); z && z->is_boolean() && !z->get<bool>())
      throw Error(source + ": AWQ zero_point = false is not supported (the GEMM format stores zero points)");
  }
  return s;
}

}  // namespace qf::eval
