#pragma once
// UTF-8 helpers shared by the tokenizer parts: code point iteration, encoding, and the
// lossy repair that Rust's String::from_utf8_lossy performs (one U+FFFD per maximal invalid subpart).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qf::tok::utf8 {

// Length in bytes of the (valid) UTF-8 sequence starting with lead byte `b` (1 for stray bytes).
inline std::size_t char_len(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b >> 5) == 0x6) return 2;
  if ((b >> 4) == 0xE) return 3;
  if ((b >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i] (s must be valid UTF-8); sets `len` to its byte length.
char32_t decode_at(std::string_view s, std::size_t i, std::size_t& len);

void append(std::string& out, char32_t cp);
std::string encode(char32_t cp);

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid there.
std::size_t valid_seq_len(std::string_view s, std::size_t i);

bool is_valid(std::string_view s);

// Rust's String::from_utf8_lossy: invalid maximal subparts become U+FFFD.
std::string lossy(std::string_view bytes);

}  // namespace qf::tok::utf8
