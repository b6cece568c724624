#pragma once
// PCRE2 (UTF + UCP, JIT) wrapper. Unicode classes (\p{L}, \p{N}, \s ...) come from PCRE2's tables.
// find_all follows the iteration rules of the Oniguruma find_iter used by Rust `tokenizers`.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qf::tok {

using Span = std::pair<std::size_t, std::size_t>;  // [begin, end) byte offsets

class Regex {
 public:
  // `literal`: the pattern is a plain string (Split/Replace with a String pattern).
  // Throws std::runtime_error with PCRE2's message on a bad pattern. Subjects must be valid UTF-8.
  explicit Regex(const std::string& pattern, bool literal = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All matches, left to right, non-overlapping (empty matches right after a match are skipped).
  void find_all(std::string_view subject, std::vector<Span>& out) const;
  // Length of a match anchored at subject[0], or -1.
  long match_prefix(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  bool search(std::string_view subject, std::size_t from, Span& m, void* match_data) const;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
};

// Unicode character predicates (Rust char semantics), backed by PCRE2 properties.
bool is_whitespace_char(std::string_view ch);    // char::is_whitespace (White_Space)
bool is_alphanumeric_char(std::string_view ch);  // char::is_alphanumeric (Alphabetic | N)

}  // namespace qf::tok
