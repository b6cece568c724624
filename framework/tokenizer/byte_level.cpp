#include "tokenizer/byte_level.hpp"

#include "tokenizer/utf8.hpp"

namespace qf::tok::byte_level {

namespace {
struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;
  std::array<int, 512> to_byte{};  // all mapped code points are < 0x144
  Tables() {
    to_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? char32_t(b) : char32_t(256 + n++);
      to_utf8[b] = utf8::encode(to_char[b]);
      to_byte[to_char[b]] = b;
    }
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}
}  // namespace

char32_t byte_to_char(uint8_t b) { return tables().to_char[b]; }
const std::string& byte_to_utf8(uint8_t b) { return tables().to_utf8[b]; }
int char_to_byte(char32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

void encode_bytes(std::string_view text, std::string& out) {
  const Tables& t = tables();
  for (unsigned char c : text) out += t.to_utf8[c];
}

}  // namespace qf::tok::byte_level
