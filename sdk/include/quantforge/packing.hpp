// Bit packing shared by every method: the GPTQ (v1/v2) layout and the AutoAWQ GEMM layout.
// Header-only, no dependencies, so third-party plugins and the host use the very same code.
//
// Conventions: integer codes are unsigned in [0, 2^bits - 1], given row-major as
// codes[o * in + i] for output channel o and input channel i (the Linear weight's [out, in]).
// Zero points are given as zeros[o * ngroups + g]. Packed words are returned as int32 (the bit
// pattern of the uint32 the references compute).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace qf::pack {

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

inline int values_per_word(int bits) {
  require(bits == 2 || bits == 4 || bits == 8, "packing supports bits 2, 4 and 8, got " + std::to_string(bits));
  return 32 / bits;
}

// ---------------------------------------------------------------- GPTQ (docs/gptq.md#packing-v1-and-v2)

// qweight [in * bits / 32, out]: input channel r*pf + j of column o sits in bits [bits*j, bits*j+bits).
inline std::vector<int32_t> gptq_pack_qweight(const std::vector<int32_t>& codes, int64_t out, int64_t in, int bits) {
  const int pf = values_per_word(bits);
  require(in % pf == 0, "GPTQ packing needs in_features divisible by " + std::to_string(pf));
  require(static_cast<int64_t>(codes.size()) == out * in, "codes size does not match [out, in]");
  const int64_t rows = in / pf;
  std::vector<int32_t> packed(static_cast<size_t>(rows * out), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      uint32_t word = 0;
      for (int j = 0; j < pf; ++j)
        word |= (static_cast<uint32_t>(codes[o * in + r * pf + j]) & ((1u << bits) - 1)) << (bits * j);
      packed[r * out + o] = static_cast<int32_t>(word);
    }
  return packed;
}

inline std::vector<int32_t> gptq_unpack_qweight(const std::vector<int32_t>& packed, int64_t out, int64_t in, int bits) {
  const int pf = values_per_word(bits);
  require(static_cast<int64_t>(packed.size()) * pf == out * in, "qweight size does not match [in*bits/32, out]");
  std::vector<int32_t> codes(static_cast<size_t>(out * in));
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) {
      const uint32_t word = static_cast<uint32_t>(packed[(i / pf) * out + o]);
      codes[o * in + i] = static_cast<int32_t>((word >> (bits * (i % pf))) & ((1u << bits) - 1));
    }
  return codes;
}

// qzeros [ngroups, out * bits / 32]. v1 (checkpoint_format "gptq") stores z - 1 per field without
// borrow across fields (which is lossless only for symmetric zero points); v2 stores z.
inline std::vector<int32_t> gptq_pack_qzeros(const std::vector<int32_t>& zeros, int64_t out, int64_t ngroups, int bits,
                                             bool v1) {
  const int pf = values_per_word(bits);
  require(out % pf == 0, "GPTQ qzeros packing needs out_features divisible by " + std::to_string(pf));
  require(static_cast<int64_t>(zeros.size()) == out * ngroups, "zeros size does not match [out, ngroups]");
  const uint32_t mask = (1u << bits) - 1;
  std::vector<int32_t> packed(static_cast<size_t>(ngroups * out / pf), 0);
  for (int64_t g = 0; g < ngroups; ++g)
    for (int64_t c = 0; c < out / pf; ++c) {
      uint32_t word = 0;
      for (int j = 0; j < pf; ++j) {
        const int32_t z = zeros[(c * pf + j) * ngroups + g] - (v1 ? 1 : 0);
        require(!v1 || z >= 0, "a zero point of 0 cannot be stored in GPTQ v1; use gptq_v2");
        word |= (static_cast<uint32_t>(z) & mask) << (bits * j);
      }
      packed[g * (out / pf) + c] = static_cast<int32_t>(word);
    }
  return packed;
}

// Returns zeros[o * ngroups + g] as loaders read them: v1 adds 1 back (masked), v2 as stored.
inline std::vector<int32_t> gptq_unpack_qzeros(const std::vector<int32_t>& packed, int64_t out, int64_t ngroups,
                                               int bits, bool v1) {
  const int pf = values_per_word(bits);
  require(static_cast<int64_t>(packed.size()) * pf == out * ngroups, "qzeros size does not match [ngroups, out*bits/32]");
  const uint32_t mask = (1u << bits) - 1;
  std::vector<int32_t> zeros(static_cast<size_t>(out * ngroups));
  for (int64_t g = 0; g < ngroups; ++g)
    for (int64_t o = 0; o < out; ++o) {
      const uint32_t word = static_cast<uint32_t>(packed[g * (out / pf) + o / pf]);
      uint32_t z = (word >> (bits * (o % pf))) & mask;
      if (v1) z = (z + 1) & mask;
      zeros[o * ngroups + g] = static_cast<int32_t>(z);
    }
  return zeros;
}

// ---------------------------------------------------------------- AutoAWQ GEMM (docs/awq.md#gemm-packing)

// Nibble i of a word holds output column 8c + kAwqOrder[i].
constexpr int kAwqOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
// Column 8c + j lives in nibble kAwqReverseOrder[j].
constexpr int kAwqReverseOrder[8] = {0, 4, 1, 5, 2, 6, 3, 7};

// Packs values[k * n + col] ([rows k, cols n], 4-bit) along the columns: [k, n / 8].
inline std::vector<int32_t> awq_pack_rows(const std::vector<int32_t>& values, int64_t k, int64_t n) {
  require(n % 8 == 0, "AWQ GEMM packing needs out_features divisible by 8");
  require(static_cast<int64_t>(values.size()) == k * n, "values size does not match");
  std::vector<int32_t> packed(static_cast<size_t>(k * n / 8), 0);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n / 8; ++c) {
      uint32_t word = 0;
      for (int i = 0; i < 8; ++i)
        word |= (static_cast<uint32_t>(values[r * n + 8 * c + kAwqOrder[i]]) & 0xFu) << (4 * i);
      packed[r * (n / 8) + c] = static_cast<int32_t>(word);
    }
  return packed;
}

inline std::vector<int32_t> awq_unpack_rows(const std::vector<int32_t>& packed, int64_t k, int64_t n) {
  require(static_cast<int64_t>(packed.size()) * 8 == k * n, "packed size does not match [k, n/8]");
  std::vector<int32_t> values(static_cast<size_t>(k * n));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t col = 0; col < n; ++col) {
      const uint32_t word = static_cast<uint32_t>(packed[r * (n / 8) + col / 8]);
      values[r * n + col] = static_cast<int32_t>((word >> (4 * kAwqReverseOrder[col % 8])) & 0xFu);
    }
  return values;
}

// qweight [in, out / 8] from codes [out, in].
inline std::vector<int32_t> awq_pack_qweight(const std::vector<int32_t>& codes, int64_t out, int64_t in) {
  require(static_cast<int64_t>(codes.size()) == out * in, "codes size does not match [out, in]");
  std::vector<int32_t> transposed(static_cast<size_t>(out * in));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) transposed[i * out + o] = codes[o * in + i];
  return awq_pack_rows(transposed, in, out);
}

inline std::vector<int32_t> awq_unpack_qweight(const std::vector<int32_t>& packed, int64_t out, int64_t in) {
  const std::vector<int32_t> t = awq_unpack_rows(packed, in, out);
  std::vector<int32_t> codes(static_cast<size_t>(out * in));
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o) codes[o * in + i] = t[i * out + o];
  return codes;
}

// qzeros [ngroups, out / 8] from zeros [out, ngroups]; AWQ stores z itself (no offset).
inline std::vector<int32_t> awq_pack_qzeros(const std::vector<int32_t>& zeros, int64_t out, int64_t ngroups) {
  require(static_cast<int64_t>(zeros.size()) == out * ngroups, "zeros size does not match [out, ngroups]");
  std::vector<int32_t> transposed(static_cast<size_t>(out * ngroups));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t g = 0; g < ngroups; ++g) transposed[g * out + o] = zeros[o * ngroups + g];
  return awq_pack_rows(transposed, ngroups, out);
}

inline std::vector<int32_t> awq_unpack_qzeros(const std::vector<int32_t>& packed, int64_t out, int64_t ngroups) {
  const std::vector<int32_t> t = awq_unpack_rows(packed, ngroups, out);
  std::vector<int32_t> zeros(static_cast<size_t>(out * ngroups));
  for (int64_t g = 0; g < ngroups; ++g)
    for (int64_t o = 0; o < out; ++o) zeros[o * ngroups + g] = t[g * out + o];
  return zeros;
}

}  // namespace qf::pack
