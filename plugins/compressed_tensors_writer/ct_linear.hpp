// One quantized Linear's grid as compressed-tensors "pack-quantized" tensors (docs/formats.md#compressed-tensors).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quantforge/quantized_linears.hpp"
#include "quantforge/safetensors_dtype.hpp"

namespace qf::ct {

// How every Linear of the checkpoint is written (one config group).
struct LinearLayout {
  bool symmetric = true;              // no weight_zero_point; every zero must be 2^(b-1)
  bool act_order = false;             // write weight_g_idx
  sdk::st::DType scale_dtype = sdk::st::DType::F16;  // F16, BF16 or F32
};

struct CompressedLinear {
  int64_t out = 0, in = 0, groups = 0;
  std::vector<int32_t> weight_packed;      // [out, in*b/32]
  std::vector<uint8_t> weight_scale;       // [out, groups] in scale_dtype
  std::vector<int64_t> weight_shape;       // {out, in}
  std::vector<int32_t> weight_zero_point;  // [ceil(out*b/32), groups]; empty when symmetric
  std::vector<int32_t> weight_g_idx;       // [in]; empty without act-order
};

// Packs g's codes and zero points as they are (the offset 2^(b-1) makes the signed values of
// compressed-tensors the unsigned ones of the grid) and converts its fp16 scales to scale_dtype
// (exact for F16 and F32, rounded to nearest even for BF16). Throws std::invalid_argument naming
// the Linear when a symmetric layout meets a zero point other than 2^(b-1).
CompressedLinear compress_linear(const sdk::grid::LinearGrid& g, const LinearLayout& layout);

// The fp16 scale bits as `dtype` stores them, little-endian.
std::vector<uint8_t> convert_scales(const std::vector<uint16_t>& half_bits, sdk::st::DType dtype);

}  // namespace qf::ct
