#include "recipe/overrides.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/error.hpp"

namespace qf::recipe {

void set_method_option(Recipe& recipe, const std::string& name, OptionValue value, const std::string& origin) {
  if (name.empty()) throw qf::Error(origin + ": empty option name");
  recipe.method.options[name] = SourcedValue{std::move(value), origin};
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [+-]digits
bool looks_integer(std::string_view t) {
  size_t i = (!t.empty() && (t[0] == '+' || t[0] == '-')) ? 1 : 0;
  if (i == t.size()) return false;
  for (; i < t.size(); ++i)
    if (!is_digit(t[i])) return false;
  return true;
}

// [+-](digits[.digits*] | .digits)([eE][+-]digits)
bool looks_float(std::string_view t) {
  size_t i = (!t.empty() && (t[0] == '+' || t[0] == '-')) ? 1 : 0;
  size_t mantissa_digits = 0;
  while (i < t.size() && is_digit(t[i])) ++i, ++mantissa_digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && is_digit(t[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < t.size() && is_digit(t[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == t.size();
}

}  // namespace

OptionValue parse_cli_value(std::string_view text) {
  if (iequals(text, "true")) return true;
  if (iequals(text, "false")) return false;
  if (looks_integer(text)) {
    std::string_view digits = text[0] == '+' ? text.substr(1) : text;
    int64_t v = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (res.ec == std::errc::result_out_of_range || res.ptr != digits.data() + digits.size())
      throw qf::Error("integer out of range: " + std::string(text));
    return v;
  }
  if (looks_float(text)) {
    const std::string s(text);
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);  // grammar checked above; strtod for portability
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) throw qf::Error("number out of range: " + s);
    return v;
  }
  return std::string(text);
}

}  // namespace qf::recipe
