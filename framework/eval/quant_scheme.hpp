#pragma once
// The quantization scheme a checkpoint's packed tensors follow, read from a Hugging Face
// quantization_config object or a quantize_config.json / quant_config*.json file. Only what
// dequantization needs: method, bits, group size, GPTQ zero-point format, AWQ packing version.
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace qf::eval {

struct QuantScheme {
  enum class Method { Gptq, Awq };
  Method method = Method::Gptq;
  int bits = 4;
  int64_t group_size = 128;  // -1: one group spanning the input (GPTQ)
  bool gptq_v1 = true;       // GPTQ checkpoint_format "gptq" (zeros stored minus one) vs "gptq_v2"
  std::string source;        // where it was read, for messages

  // e.g. "GPTQ v2 4-bit g128" or "AWQ GEMM 4-bit g128".
  std::string describe() const;
};

// Keys (aliases as the tools write them): quant_method ("gptq" | "awq"; absent: AWQ when an AutoAWQ
// key w_bit/q_group_size/version/zero_point is present, else GPTQ); bits|w_bit|wbits;
// group_size|q_group_size; GPTQ checkpoint_format|format ("gptq" = v1, the default; "gptq_v2");
// AWQ version ("gemm", the default; other packings are rejected) and zero_point (must be true).
// qf::Error naming `source` for anything unsupported or malformed.
QuantScheme parse_quant_scheme(const nlohmann::json& j, const std::string& source);

}  // namespace qf::eval
