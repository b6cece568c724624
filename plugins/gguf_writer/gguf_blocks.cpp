#include "gguf_blocks.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "quantforge/half.hpp"

namespace qf::gguf {

TensorType block_type_for(const sdk::grid::LinearGrid& g, const std::string& option_hint) {
  const int64_t group = g.contiguous_group_size();
  if (group == 0)
    throw std::invalid_argument(g.prefix + ": act-order (desc_act) groups are not contiguous along the input, so no "
                                "GGUF block type carries them exactly; quantize with " + option_hint);
  if (group % 32 != 0)
    throw std::invalid_argument(g.prefix + ": group size " + std::to_string(group) +
                                " is not a multiple of 32 (GGUF blocks hold 32 weights); use a group size of 32, 64, "
                                "128, ... or -1");
  const int32_t mid = 1 << (g.bits - 1);
  bool symmetric = true;
  for (int32_t z : g.zeros) symmetric = symmetric && z == mid;
  if (g.bits == 8 && symmetric) return TensorType::Q8_0;
  if (g.bits == 4) return symmetric ? TensorType::Q4_0 : TensorType::Q4_1;
  if (g.bits == 8)
    throw std::invalid_argument(g.prefix + ": 8-bit grids with zero points have no exact GGUF block type; quantize "
                                "with sym = true (Q8_0)");
  throw std::invalid_argument(g.prefix + ": " + std::to_string(g.bits) +
                              "-bit grids have no exact GGUF block type (4 and 8 bits do)");
}

namespace {

void put_half(uint8_t* p, uint16_t h) { std::memcpy(p, &h, 2); }

}  // namespace

std::vector<uint8_t> encode_grid(const sdk::grid::LinearGrid& g, TensorType type, const RowMap& rows,
                                 EncodeReport* report) {
  const int64_t blocks_per_row = g.in / 32;
  const uint64_t bb = block_bytes(type);
  std::vector<uint8_t> out(static_cast<size_t>(g.out * blocks_per_row) * bb);
  for (int64_t r = 0; r < g.out; ++r) {
    const int64_t o = rows(r);
    const uint8_t* codes = g.codes.data() + o * g.in;
    for (int64_t b = 0; b < blocks_per_row; ++b) {
      uint8_t* blk = out.data() + static_cast<size_t>(r * blocks_per_row + b) * bb;
      const size_t k = static_cast<size_t>(o * g.groups + g.group_of(b * 32));
      const uint16_t d = g.scales[k];
      const uint8_t* q = codes + b * 32;
      put_half(blk, d);
      if (type == TensorType::Q8_0) {
        for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q[j] - 128));
        continue;
      }
      uint8_t* qs = blk + 2;
      if (type == TensorType::Q4_1) {
        const float m = -static_cast<float>(g.zeros[k]) * sdk::half_bits_to_float(d);
        const uint16_t mh = sdk::float_to_half_bits(m);
        if (report)
          report->worst_m_error =
              std::max(report->worst_m_error, std::fabs(static_cast<double>(sdk::half_bits_to_float(mh)) - m));
        put_half(blk + 2, mh);
        qs = blk + 4;
      }
      for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
    }
  }
  return out;
}

void quantize_q8_0(const float* x, int64_t cols, uint8_t* out) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    const float* v = x + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t* blk = out + b * 34;
    put_half(blk, sdk::float_to_half_bits(d));
    for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(v[j] * id)));
  }
}

float bf16_to_float(uint16_t h) { return sdk::bf16_bits_to_float(h); }

uint16_t float_to_bf16(float f) { return sdk::float_to_bf16_bits(f); }

}  // namespace qf::gguf
