#include "ct_plan.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace qf::ct {
namespace {

namespace grid = sdk::grid;
using sdk::st::DType;

struct Shape {
  int64_t out = 0, in = 0, groups = 0;
};

[[noreturn]] void refuse(const std::string& message) { throw std::invalid_argument(message); }

// out, in and groups of the Linear `prefix` from the shapes of its packed tensors.
Shape linear_shape(const sdk::TensorSpool& spool, const std::string& prefix, const grid::Scheme& scheme) {
  const std::string qw = prefix + ".qweight", qz = prefix + ".qzeros", sc = prefix + ".scales";
  for (const std::string& part : {qz, sc})
    if (!spool.has(part)) refuse(qw + " arrived without " + part + ": the method's grid is incomplete");
  const auto& w = spool.entry(qw);
  const auto& s = spool.entry(sc);
  if (w.dtype != DType::I32 || w.shape.size() != 2) refuse(qw + " must be int32 [rows, cols]");
  if (s.dtype != DType::F16 || s.shape.size() != 2) refuse(sc + " must be fp16 [groups, out]");
  Shape r;
  r.groups = s.shape[0];
  r.out = s.shape[1];
  if (scheme.packing == grid::Packing::AwqGemm) {
    r.in = w.shape[0];
    if (w.shape[1] * 8 != r.out) refuse(qw + " [in, out/8] does not match " + sc + " [groups, out]");
  } else {
    r.in = w.shape[0] * 32 / scheme.bits;
    if (w.shape[1] != r.out) refuse(qw + " [in*bits/32, out] does not match " + sc + " [groups, out]");
  }
  if (r.groups <= 0 || r.in % r.groups != 0)
    refuse(prefix + ": " + std::to_string(r.in) + " input features are not a whole number of " +
           std::to_string(r.groups) + " groups");
  const int64_t per_word = 32 / scheme.bits;
  if (r.in % per_word != 0)
    refuse(prefix + ": " + std::to_string(r.in) + " input features do not fill whole int32 words of " +
           std::to_string(per_word) + " codes (vLLM reads weight_packed as [out, in/" + std::to_string(per_word) +
           "]); leave this Linear unquantized");
  if (!scheme.symmetric && r.out % per_word != 0)
    refuse(prefix + ": " + std::to_string(r.out) + " output features do not fill whole int32 words of " +
           std::to_string(per_word) + " zero points (vLLM reads weight_zero_point as [out/" +
           std::to_string(per_word) + ", groups]); quantize with sym = true");
  return r;
}

// True when g_idx is not the plain i / group_size order (act-order). Checks its shape and range.
bool reordered(const sdk::TensorSpool& spool, const std::string& prefix, const Shape& shape) {
  const std::string name = prefix + ".g_idx";
  if (!spool.has(name)) return false;
  const auto& e = spool.entry(name);
  if (e.dtype != DType::I32 || e.shape != std::vector<int64_t>{shape.in})
    refuse(name + " must be int32 [" + std::to_string(shape.in) + "]");
  const std::vector<int32_t> g_idx = spool.values<int32_t>(name);
  const int64_t size = shape.in / shape.groups;
  bool plain = true;
  for (int64_t i = 0; i < shape.in; ++i) {
    const int32_t v = g_idx[static_cast<size_t>(i)];
    if (v < 0 || v >= shape.groups) refuse(name + " names group " + std::to_string(v) + ", which does not exist");
    plain = plain && v == i / size;
  }
  return !plain;
}

// "model.layers." for "model.layers.3.mlp.up_proj": the text before the first all-digit component.
std::string layer_root(const std::string& prefix) {
  size_t start = 0;
  while (start < prefix.size()) {
    size_t end = prefix.find('.', start);
    if (end == std::string::npos) end = prefix.size();
    const bool digits = end > start && std::all_of(prefix.begin() + static_cast<std::ptrdiff_t>(start),
                                                   prefix.begin() + static_cast<std::ptrdiff_t>(end),
                                                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (digits) return prefix.substr(0, start);
    start = end + 1;
  }
  return "";
}

bool is_float(DType t) { return t == DType::F16 || t == DType::BF16 || t == DType::F32; }

// lm_head always (transformers' model has the module even when the embeddings are tied), and every
// floating-point matrix `<p>.weight` inside the decoder layers (a Linear the method left alone).
std::vector<std::string> ignored_linears(const sdk::TensorSpool& spool, const std::vector<std::string>& linears) {
  std::set<std::string> roots;
  for (const auto& p : linears)
    if (const std::string r = layer_root(p); !r.empty()) roots.insert(r);
  std::set<std::string> ignore{"lm_head"};
  const std::string suffix = ".weight";
  for (const auto& e : spool.entries()) {
    if (e.shape.size() != 2 || !is_float(e.dtype) || e.name.size() <= suffix.size() ||
        e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string p = e.name.substr(0, e.name.size() - suffix.size());
    for (const auto& r : roots)
      if (p.rfind(r, 0) == 0) ignore.insert(p);
  }
  return {ignore.begin(), ignore.end()};
}

}  // namespace

Plan plan_checkpoint(const sdk::TensorSpool& spool, const grid::Scheme& scheme) {
  Plan plan;
  plan.scheme = scheme;
  if (scheme.bits != 4 && scheme.bits != 8)
    refuse("compressed-tensors output holds 4- or 8-bit grids (vLLM's WNA16 kernels: uint4b8, uint8b128); the "
           "method wrote bits = " + std::to_string(scheme.bits) + ": quantize with --bits 4 or --bits 8");
  plan.linears = grid::quantized_prefixes(spool);
  if (plan.linears.empty())
    refuse("the method emitted no quantized Linear (no *.qweight tensor): compressed-tensors output needs a "
           "method that quantizes (awq, gptq, rtn)");
  const std::set<std::string> known(plan.linears.begin(), plan.linears.end());
  for (const auto& e : spool.entries()) {
    std::string prefix, part;
    if (grid::is_packed_part(e.name, &prefix, &part) && !known.count(prefix))
      refuse(e.name + " arrived without " + prefix + ".qweight: the method's grid is incomplete");
  }
  plan.group_size = scheme.group_size;
  if (plan.group_size != -1 && plan.group_size <= 0)
    refuse("the method declared group_size " + std::to_string(plan.group_size) + ", which is not a group size");
  for (const auto& prefix : plan.linears) {
    const Shape shape = linear_shape(spool, prefix, scheme);
    if (scheme.group_size == -1 && shape.groups != 1)
      refuse(prefix + ": the method declared group_size -1 (one group a row) but wrote " +
             std::to_string(shape.groups) + " groups");
    if (scheme.group_size > 0 && (shape.in % scheme.group_size != 0 || shape.in / scheme.group_size != shape.groups))
      refuse(prefix + ": " + std::to_string(shape.in) + " input features are not whole groups of " +
             std::to_string(scheme.group_size) + "; compressed-tensors holds " +
             "one group size for every Linear: quantize with a --group_size that divides every Linear's input "
             "features (or -1, one group a row)");
    plan.act_order = reordered(spool, prefix, shape) || plan.act_order;
  }
  plan.ignore = ignored_linears(spool, plan.linears);
  return plan;
}

std::optional<sdk::st::DType> model_float_dtype(const std::string& config_json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(config_json_text);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (!j.contains(key) || !j[key].is_string()) continue;
    const std::string v = j[key].get<std::string>();
    if (v == "float16" || v == "half") return DType::F16;
    if (v == "bfloat16") return DType::BF16;
    if (v == "float32" || v == "float") return DType::F32;
  }
  return std::nullopt;
}

}  // namespace qf::ct
