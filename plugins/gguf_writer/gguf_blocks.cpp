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

namespace {

// Round to nearest, ties to even (the FPU's default mode), as ggml's nearest_int does.
int nearest_int(float v) { return static_cast<int>(std::nearbyint(v)); }

// One 16-value sub-block on the signed 6-bit grid [-32, 31] with weights x^2: the scale of the
// least-squares fit for the plain grid and for 18 slightly stretched ones, keeping the best. The
// operations and their order follow ggml's reference so that the same bytes come out.
float sub_block_scale(const float* x, int8_t* levels) {
  constexpr int n = 16, nmax = 32;
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); max = x[i]; }
  if (amax < 1e-15f) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  auto fit = [&](float iscale, float& sumlx, float& suml2) {
    sumlx = suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
  };
  auto take = [&](float iscale) {
    for (int i = 0; i < n; ++i)
      levels[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i]))));
  };
  float sumlx = 0.0f, suml2 = 0.0f;
  const float base = -static_cast<float>(nmax) / max;
  fit(base, sumlx, suml2);
  take(base);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    fit(iscale, sumlx, suml2);
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      take(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace

void quantize_q6_k(const float* x, int64_t cols, uint8_t* out) {
  // Block layout (210 bytes): ql[128] low nibbles, qh[64] high 2 bits, int8 scales[16], fp16 d.
  for (int64_t b = 0; b < cols / 256; ++b, x += 256, out += 210) {
    int8_t levels[256];
    float scales[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int s = 0; s < 16; ++s) {
      scales[s] = sub_block_scale(x + 16 * s, levels + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) { max_abs_scale = std::fabs(scales[s]); max_scale = scales[s]; }
    }
    std::memset(out, 0, 210);
    if (max_abs_scale < 1e-15f) continue;  // all zero: d = 0 and every byte 0
    const float iscale = -128.0f / max_scale;
    const uint16_t d_bits = sdk::float_to_half_bits(1.0f / iscale);
    put_half(out + 208, d_bits);
    int8_t* sub_scales = reinterpret_cast<int8_t*>(out + 192);
    for (int s = 0; s < 16; ++s) sub_scales[s] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[s])));
    // Requantize every value against the rounded scales actually stored.
    for (int s = 0; s < 16; ++s) {
      const float d = sdk::half_bits_to_float(d_bits) * static_cast<float>(sub_scales[s]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i)
        levels[16 * s + i] = static_cast<int8_t>(32 + std::max(-32, std::min(31, nearest_int(x[16 * s + i] / d))));
    }
    uint8_t* ql = out;
    uint8_t* qh = out + 128;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
      const int8_t* l = levels + 128 * half;
      for (int j = 0; j < 32; ++j) {
        ql[j] = static_cast<uint8_t>((l[j] & 0xF) | ((l[j + 64] & 0xF) << 4));
        ql[j + 32] = static_cast<uint8_t>((l[j + 32] & 0xF) | ((l[j + 96] & 0xF) << 4));
        qh[j] = static_cast<uint8_t>((l[j] >> 4) | ((l[j + 32] >> 4) << 2) | ((l[j + 64] >> 4) << 4) | ((l[j + 96] >> 4) << 6));
      }
    }
  }
}

float bf16_to_float(uint16_t h) { return sdk::bf16_bits_to_float(h); }

uint16_t float_to_bf16(float f) { return sdk::float_to_bf16_bits(f); }

}  // namespace qf::gguf
