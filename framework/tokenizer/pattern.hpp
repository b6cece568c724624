#pragma once
// The `tokenizers` Pattern + SplitDelimiterBehavior machinery: a pattern (string or regex) cuts a
// string into (span, is_match) pieces covering it; a behavior decides what becomes of the matches.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.hpp"

namespace qf::tok {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Cut {
  Span span;
  bool is_match;
};

class Pattern {
 public:
  // literal=true: `text` is a plain string (tokenizers' {"String": ...}); else a regex ({"Regex": ...}).
  Pattern(const std::string& text, bool literal)
      : re_(std::make_shared<Regex>(text, literal)), literal_(literal && !text.empty() ? text : std::string()) {}
  // Pieces covering `s` in order; an empty `s` gives one empty non-match.
  std::vector<Cut> find_matches(std::string_view s) const;
  // Replaces every match by `content`.
  std::string replace_all(std::string_view s, std::string_view content) const;

 private:
  std::shared_ptr<Regex> re_;
  std::string literal_;  // non-empty: plain substring search (same matches as the escaped regex, faster)
};

// Applies `behavior` (after optional inversion) and returns the kept spans (may include empty ones).
std::vector<Span> split_spans(std::vector<Cut> cuts, SplitBehavior behavior, bool invert);

}  // namespace qf::tok
