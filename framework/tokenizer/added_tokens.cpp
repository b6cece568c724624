#include "tokenizer/added_tokens.hpp"

#include <algorithm>

#include "tokenizer/utf8.hpp"

namespace qf::tok {

namespace {

std::string_view last_char(std::string_view s) {
  std::size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return s.substr(k);
}
std::string_view first_char(std::string_view s) {
  return s.substr(0, std::min(s.size(), utf8::char_len(static_cast<unsigned char>(s[0]))));
}
bool ends_with_word(std::string_view s) { return !s.empty() && is_alphanumeric_char(last_char(s)); }
bool starts_with_word(std::string_view s) { return !s.empty() && is_alphanumeric_char(first_char(s)); }

// Byte index where the trailing whitespace of s begins.
std::size_t space_leftmost_at_end(std::string_view s) {
  std::size_t index = s.size();
  while (index > 0) {
    const std::string_view c = last_char(s.substr(0, index));
    if (!is_whitespace_char(c)) break;
    index -= c.size();
  }
  return index;
}
// Byte length of the leading whitespace of s.
std::size_t space_rightmost_at_start(std::string_view s) {
  std::size_t index = 0;
  while (index < s.size()) {
    const std::string_view c = first_char(s.substr(index));
    if (!is_whitespace_char(c)) break;
    index += c.size();
  }
  return index;
}

}  // namespace

int32_t AddedTokenMatcher::child(int32_t node, unsigned char b) const {
  const auto& ch = nodes_[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
  return it != ch.end() && it->first == b ? it->second : -1;
}

void AddedTokenMatcher::build(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns) {
  nodes_.assign(1, Node{});
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  tokens_ = tokens;
  for (std::size_t t = 0; t < patterns.size(); ++t) {
    const std::string& p = patterns[t];
    if (p.empty()) continue;
    first_byte_[static_cast<unsigned char>(p[0])] = true;
    int32_t node = 0;
    for (unsigned char b : p) {
      int32_t next = child(node, b);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_.push_back(Node{});
        auto& ch = nodes_[node].children;
        auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& q, unsigned char v) { return q.first < v; });
        ch.insert(it, {b, next});
      }
      node = next;
    }
    if (nodes_[node].token_index < 0) nodes_[node].token_index = static_cast<int32_t>(t);  // first one wins
  }
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view s) const {
  std::vector<Segment> out;
  if (s.empty()) {
    out.push_back({{0, 0}, -1});
    return out;
  }
  std::size_t start_offset = 0;
  std::size_t pos = 0;  // where the leftmost-longest scan resumes (end of the previous raw match)
  while (pos < s.size()) {
    // Leftmost-longest match starting at or after pos.
    std::size_t mstart = 0, mend = 0;
    int32_t mtok = -1;
    for (std::size_t i = pos; i < s.size() && mtok < 0; ++i) {
      if (!first_byte_[static_cast<unsigned char>(s[i])]) continue;
      int32_t node = 0;
      for (std::size_t j = i; j < s.size(); ++j) {
        node = child(node, static_cast<unsigned char>(s[j]));
        if (node < 0) break;
        if (nodes_[node].token_index >= 0) {
          mstart = i;
          mend = j + 1;
          mtok = nodes_[node].token_index;
        }
      }
    }
    if (mtok < 0) break;
    pos = mend;
    const AddedToken& tok = tokens_[mtok];
    std::size_t start = mstart, stop = mend;
    if (tok.single_word) {
      const bool start_space = start == 0 || !ends_with_word(s.substr(0, start));
      const bool stop_space = stop == s.size() || !starts_with_word(s.substr(stop));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(space_leftmost_at_end(s.substr(0, start)), start_offset);
    if (tok.rstrip) stop += space_rightmost_at_start(s.substr(stop));
    if (start_offset < start) out.push_back({{start_offset, start}, -1});
    out.push_back({{start, stop}, tok.id});
    start_offset = stop;
    pos = std::max(pos, stop);
  }
  if (start_offset != s.size()) out.push_back({{start_offset, s.size()}, -1});
  return out;
}

}  // namespace qf::tok
