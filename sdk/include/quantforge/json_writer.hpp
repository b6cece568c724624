// A small streaming JSON writer for plugins: configs, indexes, headers. No parser, no DOM; text is
// appended as the calls come, so keys come out in the order the caller writes them.
//
//   qf::sdk::json::Writer w;                 // compact: {"bits":4,"sym":true}
//   w.begin_object().field("bits", 4).field("sym", true).end_object();
//   session.set_quantization_config(w.str());
//
// Indent n > 0 prints as Python's json.dumps(indent=n) and nlohmann's dump(n) do ("key": value, one
// item per line, empty containers as {} and []); ensure_ascii escapes every non-ASCII character as
// \uXXXX (surrogate pairs above U+FFFF) as both do with ensure_ascii.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace qf::sdk::json {

// A value JSON cannot carry (a string that is not UTF-8, NaN or infinity): the caller's input is
// at fault, so it is an invalid_argument (a user error when it reaches guard()).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Calls in an order that cannot make one JSON value (a value without its key, end_array inside an
// object, str() before the last close): a bug in the caller, so a logic_error but not an
// invalid_argument (an internal error when it reaches guard()).
class MisuseError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Length of the valid UTF-8 sequence starting at s[i] and its code point, or 0 when it is not one
// (overlong forms, surrogates and values above U+10FFFF are invalid, as RFC 3629 says).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i, uint32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

inline bool is_valid_utf8(std::string_view s) {
  uint32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` as a JSON string literal with its quotes. Control characters use the short escapes where JSON
// has them and \u00XX (lowercase hex) otherwise; valid UTF-8 passes through unless ensure_ascii.
inline std::string quote(std::string_view s, bool ensure_ascii = false) {
  static const char* const kHex = "0123456789abcdef";
  auto u_escape = [&](std::string& out, uint32_t unit) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
  };
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  uint32_t cp = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i, cp);
    if (n == 0)
      throw ValueError("JSON string is not valid UTF-8 at byte " + std::to_string(i) + ": \"" +
                       std::string(s.substr(0, i)) + "...\"");
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
          if (cp >= 0x10000) {  // UTF-16 surrogate pair, as JSON requires for \u escapes
            u_escape(out, 0xD800 + ((cp - 0x10000) >> 10));
            u_escape(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
          } else {
            u_escape(out, cp);
          }
        } else {
          out.append(s.data() + i, n);
        }
    }
    i += n;
  }
  out += '"';
  return out;
}

// The shortest text that parses back to exactly `v`, laid out as Python's repr(float): positional
// for exponents -4..15, else scientific; always with a '.' or an exponent so readers keep it a float
// ("1.0", "0.01", "1e+16", "1.5e-05"). NaN and infinity have no JSON form: ValueError.
inline std::string format_double(double v) {
  if (!std::isfinite(v)) throw ValueError("JSON has no representation for " + std::to_string(v));
  char buf[64];
  std::string out;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  // Shortest round-trip digits, independent of the C locale.
  const auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string s(buf, sci.ptr);
  const int exponent = std::atoi(s.c_str() + s.find('e') + 1);
  if (exponent < -4 || exponent >= 16) {
    out = s;
  } else {
    const auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out.assign(buf, fixed.ptr);
  }
#else
  // Without floating-point to_chars: the first precision that round-trips (%g picks the layout;
  // printf follows LC_NUMERIC, so a ',' decimal separator is put back to '.').
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  out = buf;
  for (char& c : out)
    if (c == ',') c = '.';
#endif
  if (out.find_first_of(".eE") == std::string::npos) out += ".0";
  return out;
}

class Writer {
 public:
  // indent 0: compact, no whitespace at all (safetensors headers). indent n > 0: pretty, n spaces.
  explicit Writer(int indent = 0, bool ensure_ascii = false) : indent_(indent), ensure_ascii_(ensure_ascii) {
    if (indent < 0) throw MisuseError("json::Writer: indent must be >= 0, got " + std::to_string(indent));
  }

  // One line with Python's default separators ", " and ": " (json.dumps(obj) without options).
  static Writer python_default() {
    Writer w;
    w.spaced_ = true;
    return w;
  }

  Writer& begin_object() { return open('{', true); }
  Writer& end_object() { return close('}', true); }
  Writer& begin_array() { return open('[', false); }
  Writer& end_array() { return close(']', false); }

  // Inside an object, before each value.
  Writer& key(std::string_view k) {
    if (stack_.empty() || !stack_.back().object || stack_.back().after_key)
      fail("key(\"" + std::string(k) + "\") outside an object or right after another key");
    separate();
    out_ += quote(k, ensure_ascii_);
    out_ += indent_ > 0 || spaced_ ? ": " : ":";
    stack_.back().after_key = true;
    return *this;
  }

  Writer& value(std::string_view s) { return scalar(quote(s, ensure_ascii_)); }
  Writer& value(const char* s) {
    if (s == nullptr) return null();
    return value(std::string_view(s));
  }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(bool b) { return scalar(b ? "true" : "false"); }
  Writer& value(std::nullptr_t) { return null(); }
  Writer& null() { return scalar("null"); }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Writer& value(T v) {
    return scalar(std::to_string(v));
  }
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Writer& value(T v) {
    return scalar(format_double(static_cast<double>(v)));
  }
  // A value that is already JSON text (trusted: not checked).
  Writer& raw(std::string_view json) { return scalar(std::string(json)); }

  // key + value in one call.
  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  // key + an array of the values in [first, last).
  template <class It>
  Writer& field_array(std::string_view k, It first, It last) {
    key(k).begin_array();
    for (; first != last; ++first) value(*first);
    return end_array();
  }

  bool complete() const { return stack_.empty() && has_root_; }
  // The text; only once the top-level value is complete.
  const std::string& str() const {
    if (!complete()) fail(has_root_ ? "str() before every object and array was closed" : "str() before any value");
    return out_;
  }

 private:
  struct Frame {
    bool object;
    std::size_t items = 0;
    bool after_key = false;
  };

  [[noreturn]] static void fail(const std::string& what) { throw MisuseError("json::Writer: " + what); }

  // Before a value: checks the position is one where a value may go and writes the separator.
  void before_value() {
    if (stack_.empty()) {
      if (has_root_) fail("a second top-level value");
      has_root_ = true;
      return;
    }
    Frame& f = stack_.back();
    if (f.object) {
      if (!f.after_key) fail("a value inside an object without its key");
      f.after_key = false;
      ++f.items;
      return;
    }
    separate();
    ++f.items;
  }

  // The comma and line break before an object's key or an array's element.
  void separate() {
    if (stack_.back().items > 0) out_ += spaced_ ? ", " : ",";
    newline(stack_.size());
  }

  void newline(std::size_t depth) {
    if (indent_ == 0) return;
    out_ += '\n';
    out_.append(depth * static_cast<std::size_t>(indent_), ' ');
  }

  Writer& scalar(const std::string& text) {
    before_value();
    out_ += text;
    return *this;
  }

  Writer& open(char c, bool object) {
    before_value();
    out_ += c;
    stack_.push_back(Frame{object});
    return *this;
  }

  Writer& close(char c, bool object) {
    if (stack_.empty() || stack_.back().object != object)
      fail(std::string("'") + c + "' without a matching '" + (object ? '{' : '[') + "'");
    if (stack_.back().after_key) fail("'}' right after a key: the key has no value");
    const bool empty = stack_.back().items == 0;
    stack_.pop_back();
    if (!empty) newline(stack_.size());
    out_ += c;
    return *this;
  }

  int indent_;
  bool ensure_ascii_;
  bool spaced_ = false;
  std::string out_;
  std::vector<Frame> stack_;
  bool has_root_ = false;
};

}  // namespace qf::sdk::json
