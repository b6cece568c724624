#pragma once
// GPT-2's bytes_to_unicode table: every byte maps to a printable code point
// (0x21..0x7E, 0xA1..0xAC, 0xAE..0xFF map to themselves; the rest to U+0100 + n in byte order).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace qf::tok::byte_level {

// Code point for byte b.
char32_t byte_to_char(uint8_t b);
// UTF-8 of byte_to_char(b), precomputed.
const std::string& byte_to_utf8(uint8_t b);
// Inverse: byte for code point cp, or -1 if cp is not in the table.
int char_to_byte(char32_t cp);
// Maps every byte of `text` (appending to out).
void encode_bytes(std::string_view text, std::string& out);

}  // namespace qf::tok::byte_level
