#pragma once
// bf16 <-> fp32 by bits, with ATen's rounding (nearest, ties to even; any NaN -> 0x7FC0), written so
// the compiler vectorises loops over them. For the hand-written elementwise passes that must round
// exactly as ATen's bf16 ops do.
#include <cstdint>
#include <cstring>

namespace qf::model {

inline uint16_t bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  // A select rather than an early return, so loops over it vectorise.
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? 0x7fc0u : rounded);
}

inline float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// f rounded to the nearest bf16, as a float.
inline float round_to_bf16(float f) { return bf16_to_float(bf16_bits(f)); }

}  // namespace qf::model
