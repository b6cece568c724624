// ggml block encodings of our integer grids (exact: each 32-element block takes its group's scale
// and zero, nothing is rounded again) and of floating-point rows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf_file.hpp"
#include "quantforge/quantized_linears.hpp"

namespace qf::gguf {

// Output row r of a tensor comes from source row source_row(r) (the q/k permutation, or identity).
using RowMap = std::function<int64_t(int64_t)>;

// Which block type carries `g` exactly, or an error that says why none does and what to change:
// 8-bit symmetric -> Q8_0; 4-bit symmetric -> Q4_0; 4-bit with zero points -> Q4_1.
TensorType block_type_for(const sdk::grid::LinearGrid& g, const std::string& option_hint);

struct EncodeReport {
  double worst_m_error = 0.0;  // Q4_1: largest |fp16(m) - (-zero * scale)| (m's rounding)
};

// The grid as `type` blocks, rows in output order. Q4_1's m = -zero * scale is the one value
// rounded (to fp16); its worst error goes to `report`.
std::vector<uint8_t> encode_grid(const sdk::grid::LinearGrid& g, TensorType type, const RowMap& rows,
                                 EncodeReport* report);

// ggml's reference Q8_0 quantizer on fp32 rows of length `cols` (d = amax / 127, q = round(x / d)).
void quantize_q8_0(const float* x, int64_t cols, uint8_t* out);

// ggml's reference Q6_K quantizer (no importance matrix) on fp32 rows of length `cols`, a multiple
// of 256: 16 sub-blocks of 16 values, each with an int8 scale found by a least-squares search, under
// one fp16 super-block scale. What llama.cpp's presets use for output.weight.
void quantize_q6_k(const float* x, int64_t cols, uint8_t* out);

// Float conversions between the checkpoint's storage and the output type.
float bf16_to_float(uint16_t h);
uint16_t float_to_bf16(float f);  // round to nearest even, NaN kept quiet

}  // namespace qf::gguf
