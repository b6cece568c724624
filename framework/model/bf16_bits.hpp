#pragma once
// Rounding a float to the nearest bf16 and back, for the hand-written elementwise passes that must
// round as ATen's bf16 ops do (nearest, ties to even), on the SDK's bit conversions.
#include "quantforge/half.hpp"

namespace qf::model {

inline float round_to_bf16(float f) { return sdk::bf16_bits_to_float(sdk::float_to_bf16_bits(f)); }

}  // namespace qf::model
