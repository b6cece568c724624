#pragma once
// Added tokens (tokenizers' AddedVocabulary): special and non-special tokens found in the raw text
// (normalized=false) or in the normalized text (normalized=true) before the model runs; leftmost-longest
// matching with the single_word / lstrip / rstrip rules of tokenizers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/regex.hpp"

namespace qf::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// One segment of a split: either text (token < 0) or a matched added token.
struct Segment {
  Span span;
  int32_t token = -1;
};

class AddedTokenMatcher {
 public:
  // `patterns`: (string to find, token id) pairs.
  void build(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns);
  bool empty() const { return nodes_.size() <= 1; }
  // tokenizers' find_matches: segments covering `s` (empty input gives one empty text segment).
  std::vector<Segment> split(std::string_view s) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t token_index = -1;                                  // index into tokens_
  };
  int32_t child(int32_t node, unsigned char b) const;
  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};  // bytes that start some pattern
  std::vector<AddedToken> tokens_;
};

}  // namespace qf::tok
