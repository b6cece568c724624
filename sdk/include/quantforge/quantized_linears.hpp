// The integer grids of a quantized checkpoint, recovered from the tensors a method emits (AutoAWQ
// GEMM or GPTQ v1/v2 packing, docs/formats.md), so a format plugin can write the same grid in
// another layout without rounding anything again. Header-only; needs nlohmann/json.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quantforge/half.hpp"
#include "quantforge/packing.hpp"
#include "quantforge/tensor_spool.hpp"

namespace qf::sdk::grid {

enum class Packing { AwqGemm, GptqV1, GptqV2 };

// What the method's quantization_config says about the grid.
struct Scheme {
  std::string method;  // "awq", "gptq"
  Packing packing = Packing::GptqV1;
  int bits = 4;
  int64_t group_size = 128;  // -1: one group over all input channels
  bool symmetric = true;     // AWQ always carries zero points (zero_point = true)
  bool desc_act = false;
};

inline Scheme scheme_from_quantization_config(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("the method's quantization_config is not valid JSON: ") + e.what());
  }
  Scheme s;
  s.method = j.value("quant_method", "");
  const auto get_int = [&](const char* a, const char* b, int64_t fallback) -> int64_t {
    if (j.contains(a) && j[a].is_number_integer()) return j[a].get<int64_t>();
    if (j.contains(b) && j[b].is_number_integer()) return j[b].get<int64_t>();
    return fallback;
  };
  s.bits = static_cast<int>(get_int("bits", "w_bit", 0));
  s.group_size = get_int("group_size", "q_group_size", 0);
  if (s.method == "awq") {
    const std::string version = j.value("version", "gemm");
    if (version != "gemm" && version != "GEMM")
      throw std::invalid_argument("AWQ version \"" + version + "\" cannot be converted; only \"gemm\" checkpoints");
    s.packing = Packing::AwqGemm;
    s.symmetric = !j.value("zero_point", true);
  } else if (s.method == "gptq") {
    const std::string fmt = j.value("checkpoint_format", j.value("format", "gptq"));
    s.packing = fmt == "gptq_v2" ? Packing::GptqV2 : Packing::GptqV1;
    s.symmetric = j.value("sym", true);
    s.desc_act = j.value("desc_act", false);
  } else {
    throw std::invalid_argument("quant_method \"" + s.method + "\" is not a grid this format can carry (awq, gptq)");
  }
  if (s.bits != 2 && s.bits != 4 && s.bits != 8)
    throw std::invalid_argument("quantization_config bits " + std::to_string(s.bits) + " is not 2, 4 or 8");
  return s;
}

// One quantized Linear: W[o, i] = (codes[o, i] - zeros[o, g(i)]) * scale[o, g(i)].
struct LinearGrid {
  std::string prefix;  // "model.layers.0.self_attn.q_proj"
  int bits = 4;
  int64_t out = 0, in = 0, groups = 0;
  std::vector<uint8_t> codes;    // [out, in], 0 .. 2^bits - 1
  std::vector<uint16_t> scales;  // fp16 bits, [out, groups]
  std::vector<int32_t> zeros;    // [out, groups], 0 .. 2^bits - 1
  std::vector<int32_t> g_idx;    // [in]: the group of each input channel

  int64_t group_of(int64_t i) const { return g_idx[static_cast<size_t>(i)]; }
  // The contiguous run length of every group when groups follow the input order (g_idx[i] ==
  // i / G for one G); 0 when they do not (act-order).
  int64_t contiguous_group_size() const {
    if (groups <= 0 || in % groups != 0) return 0;
    const int64_t g = in / groups;
    for (int64_t i = 0; i < in; ++i)
      if (g_idx[static_cast<size_t>(i)] != i / g) return 0;
    return g;
  }
  float dequantized(int64_t o, int64_t i) const {
    const size_t k = static_cast<size_t>(o * groups + group_of(i));
    return static_cast<float>(codes[static_cast<size_t>(o * in + i)] - zeros[k]) * half_bits_to_float(scales[k]);
  }
};

// The packed tensor names of one Linear.
inline bool is_packed_part(const std::string& name, std::string* prefix, std::string* part) {
  for (const char* p : {".qweight", ".qzeros", ".scales", ".g_idx"}) {
    const std::string suffix = p;
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      *prefix = name.substr(0, name.size() - suffix.size());
      *part = suffix.substr(1);
      return true;
    }
  }
  return false;
}

// The prefixes of every quantized Linear among the spooled tensors (those with a qweight).
inline std::vector<std::string> quantized_prefixes(const TensorSpool& spool) {
  std::vector<std::string> out;
  std::string prefix, part;
  for (const auto& e : spool.entries())
    if (is_packed_part(e.name, &prefix, &part) && part == "qweight") out.push_back(prefix);
  return out;
}

// Unpacks the Linear `prefix` from the spooled method output under `scheme`.
inline LinearGrid unpack(const TensorSpool& spool, const std::string& prefix, const Scheme& scheme) {
  const auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(prefix + ": " + what);
  };
  const std::string qw = prefix + ".qweight", qz = prefix + ".qzeros", sc = prefix + ".scales";
  require(spool.has(qz) && spool.has(sc), "qweight arrived without its qzeros and scales");
  const auto& sc_shape = spool.entry(sc).shape;
  require(sc_shape.size() == 2 && spool.entry(sc).dtype == st::DType::F16, "scales must be fp16 [groups, out]");
  LinearGrid g;
  g.prefix = prefix;
  g.bits = scheme.bits;
  g.groups = sc_shape[0];
  g.out = sc_shape[1];
  const auto& qw_shape = spool.entry(qw).shape;
  require(qw_shape.size() == 2, "qweight must be 2-D");
  std::vector<int32_t> codes, zeros;
  const std::vector<int32_t> qweight = spool.values<int32_t>(qw), qzeros = spool.values<int32_t>(qz);
  const std::vector<uint16_t> scales_t = spool.values<uint16_t>(sc);  // [groups, out]
  if (scheme.packing == Packing::AwqGemm) {
    require(scheme.bits == 4, "AWQ GEMM packing holds 4-bit codes only");
    g.in = qw_shape[0];
    require(qw_shape[1] * 8 == g.out, "qweight [in, out/8] does not match scales [groups, out]");
    const std::vector<int32_t> q_in_out = pack::awq_unpack_rows(qweight, g.in, g.out);      // [in, out]
    const std::vector<int32_t> z_g_out = pack::awq_unpack_rows(qzeros, g.groups, g.out);    // [groups, out]
    codes.resize(static_cast<size_t>(g.out * g.in));
    for (int64_t i = 0; i < g.in; ++i)
      for (int64_t o = 0; o < g.out; ++o) codes[o * g.in + i] = q_in_out[i * g.out + o];
    zeros.resize(static_cast<size_t>(g.out * g.groups));
    for (int64_t k = 0; k < g.groups; ++k)
      for (int64_t o = 0; o < g.out; ++o) zeros[o * g.groups + k] = z_g_out[k * g.out + o];
  } else {
    g.in = qw_shape[0] * 32 / scheme.bits;
    require(qw_shape[1] == g.out, "qweight [in*bits/32, out] does not match scales [groups, out]");
    codes = pack::gptq_unpack_qweight(qweight, g.out, g.in, scheme.bits);
    zeros = pack::gptq_unpack_qzeros(qzeros, g.out, g.groups, scheme.bits, scheme.packing == Packing::GptqV1);
  }
  require(g.groups > 0 && g.in % g.groups == 0, "input features not a whole number of groups");
  g.codes.assign(codes.begin(), codes.end());
  g.zeros = std::move(zeros);
  g.scales.resize(static_cast<size_t>(g.out * g.groups));
  for (int64_t k = 0; k < g.groups; ++k)
    for (int64_t o = 0; o < g.out; ++o) g.scales[o * g.groups + k] = scales_t[k * g.out + o];
  if (spool.has(prefix + ".g_idx")) {
    g.g_idx = spool.values<int32_t>(prefix + ".g_idx");
    require(static_cast<int64_t>(g.g_idx.size()) == g.in, "g_idx must have one entry per input feature");
    for (int32_t v : g.g_idx) require(v >= 0 && v < g.groups, "g_idx names a group that does not exist");
  } else {
    const int64_t size = g.in / g.groups;
    g.g_idx.resize(static_cast<size_t>(g.in));
    for (int64_t i = 0; i < g.in; ++i) g.g_idx[static_cast<size_t>(i)] = static_cast<int32_t>(i / size);
  }
  return g;
}

}  // namespace qf::sdk::grid
