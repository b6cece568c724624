// compressed-tensors "pack-quantized" bit packing (compressed_tensors pack_to_int32): signed codes
// q in [-2^(b-1), 2^(b-1) - 1] are stored as q + 2^(b-1), which is exactly the unsigned code our
// grids hold, so these functions take unsigned values in [0, 2^b - 1]. Along the packed dimension
// the values form one little-endian bit stream: element i sits at bits [i*b, i*b + b) of it, word w
// holds bits [32w, 32w + 32); the stream is padded with zero bits to whole words. For b = 4 and 8 a
// word holds 32/b whole elements, element j of a word at bits [j*b, j*b + b).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qf::ct {

// Words one packed line of `count` values takes: ceil(count * bits / 32).
inline int64_t packed_words(int64_t count, int bits) { return (count * bits + 31) / 32; }

namespace detail {

inline void check_bits(int bits) {
  if (bits < 1 || bits > 8) throw std::invalid_argument("pack-quantized packs 1 to 8 bits, got " + std::to_string(bits));
}

// Packs `count` values value(k) into words out[0], out[stride], out[2*stride], ...
template <class Value>
void pack_line(int64_t count, int bits, int32_t* out, int64_t stride, const Value& value) {
  const uint32_t max = (1u << bits) - 1;
  const int64_t words = packed_words(count, bits);
  std::vector<uint32_t> acc(static_cast<size_t>(words), 0);
  for (int64_t k = 0; k < count; ++k) {
    const int64_t v = value(k);
    if (v < 0 || v > static_cast<int64_t>(max))
      throw std::logic_error("pack-quantized: value " + std::to_string(v) + " does not fit " + std::to_string(bits) +
                             " bits (a bug in the caller)");
    const int64_t bit = k * bits;
    const int shift = static_cast<int>(bit % 32);
    acc[static_cast<size_t>(bit / 32)] |= static_cast<uint32_t>(v) << shift;
    if (shift + bits > 32) acc[static_cast<size_t>(bit / 32 + 1)] |= static_cast<uint32_t>(v) >> (32 - shift);
  }
  for (int64_t w = 0; w < words; ++w) out[w * stride] = static_cast<int32_t>(acc[static_cast<size_t>(w)]);
}

}  // namespace detail

// values[r * cols + c] ([rows, cols]) packed along dim 1: [rows, packed_words(cols)] (weight_packed).
template <class T>
std::vector<int32_t> pack_rows(const std::vector<T>& values, int64_t rows, int64_t cols, int bits) {
  detail::check_bits(bits);
  if (static_cast<int64_t>(values.size()) != rows * cols) throw std::logic_error("pack_rows: values do not match [rows, cols]");
  const int64_t words = packed_words(cols, bits);
  std::vector<int32_t> out(static_cast<size_t>(rows * words));
  for (int64_t r = 0; r < rows; ++r)
    detail::pack_line(cols, bits, out.data() + r * words, 1,
                      [&](int64_t c) { return static_cast<int64_t>(values[static_cast<size_t>(r * cols + c)]); });
  return out;
}

// values[r * cols + c] ([rows, cols]) packed along dim 0: [packed_words(rows), cols] (weight_zero_point).
template <class T>
std::vector<int32_t> pack_columns(const std::vector<T>& values, int64_t rows, int64_t cols, int bits) {
  detail::check_bits(bits);
  if (static_cast<int64_t>(values.size()) != rows * cols)
    throw std::logic_error("pack_columns: values do not match [rows, cols]");
  std::vector<int32_t> out(static_cast<size_t>(packed_words(rows, bits) * cols));
  for (int64_t c = 0; c < cols; ++c)
    detail::pack_line(rows, bits, out.data() + c, cols,
                      [&](int64_t r) { return static_cast<int64_t>(values[static_cast<size_t>(r * cols + c)]); });
  return out;
}

}  // namespace qf::ct
