// IEEE 754 half precision (fp16) and bfloat16: the one copy of the float <-> half rounding that fp16
// `scales` tensors, scale rounding, the "fits in fp16" checks and bf16 outputs use. Header-only, no
// dependencies, so the SDK wrapper, the quantizer helpers and plugins built against the installed
// SDK share it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace qf::sdk {

// The largest finite half value.
constexpr float kHalfMax = 65504.0f;
// The smallest positive half value (a subnormal, 2^-24).
constexpr float kHalfMinSubnormal = 5.9604644775390625e-08f;

// Half bits of a float, rounded to nearest, ties to even (as IEEE and at::Tensor::to(kHalf) do):
// subnormal results are rounded on the 2^-24 grid, anything from 65520 up becomes infinity, a NaN
// becomes a quiet NaN of the same sign.
inline uint16_t float_to_half_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) return static_cast<uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u));
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds to infinity
  if (abs < 0x38800000u) {                                               // half subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);          // below half the smallest subnormal
    const uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
    const int shift = 113 - static_cast<int>(abs >> 23) + 13;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  // Normal: rebias the exponent, drop 13 mantissa bits; a carry out of the mantissa correctly
  // moves to the next binade (or to infinity).
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// The float a half bit pattern stands for (exact: every half value is a float).
inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exponent == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float v = static_cast<float>(mant) * kHalfMinSubnormal;
    return sign ? -v : v;
  }
  const uint32_t bits = exponent == 0x1Fu ? sign | 0x7F800000u | (mant << 13)             // inf, NaN
                                          : sign | ((exponent + 112u) << 23) | (mant << 13);  // 127 - 15
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// x rounded to the nearest half value (ties to even), as a float: what an fp16 tensor stores for
// x. A NaN is returned unchanged.
inline float round_to_half(float x) {
  if (std::isnan(x)) return x;
  return half_bits_to_float(float_to_half_bits(x));
}

// A quantization scale as fp16 `scales` will hold it, never zero: a zero scale would divide by zero
// when quantizing, so a zero (or a scale that rounds to zero) becomes the smallest subnormal.
inline float round_scale_to_half(float x) {
  if (x == 0.0f) return kHalfMinSubnormal;
  const float r = round_to_half(x);
  return r == 0.0f ? std::copysign(kHalfMinSubnormal, x) : r;
}

// bfloat16 (the upper half of a float): the bits of f rounded to nearest, ties to even; a NaN
// stays a quiet NaN of the same sign. The NaN case is a select, not an early return, so loops over
// this function vectorise.
inline uint16_t float_to_bf16_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t rounded = (bits + (0x7FFFu + ((bits >> 16) & 1u))) >> 16;
  const uint32_t quiet_nan = (bits >> 16) | 0x40u;
  return static_cast<uint16_t>((bits & 0x7FFFFFFFu) > 0x7F800000u ? quiet_nan : rounded);
}

// The float a bfloat16 bit pattern stands for (exact).
inline float bf16_bits_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace qf::sdk
