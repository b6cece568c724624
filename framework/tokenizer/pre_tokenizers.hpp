#pragma once
// Pre-tokenizers (tokenizers' `pre_tokenizer` key). Each one cuts every split on its own, so a split
// is processed independently: Piece -> pieces (empty pieces are dropped, as in tokenizers).
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pattern.hpp"

namespace qf::tok {

struct Piece {
  std::string text;
  // True when the piece starts at offset 0 of the original input (Metaspace prepend_scheme "first").
  bool at_start = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their sub-pieces.
  virtual void apply(std::vector<Piece>& pieces) const = 0;
};

using PreTokenizerPtr = std::shared_ptr<const PreTokenizer>;

enum class PrependScheme { First, Always, Never };

// The GPT-2 pattern ByteLevel uses when use_regex is true.
extern const char* const kGpt2Pattern;

PreTokenizerPtr make_byte_level_pre(bool add_prefix_space, bool use_regex);
PreTokenizerPtr make_split_pre(Pattern pattern, SplitBehavior behavior, bool invert);
PreTokenizerPtr make_metaspace_pre(std::string replacement, PrependScheme scheme, bool split);
PreTokenizerPtr make_digits_pre(bool individual_digits);
PreTokenizerPtr make_whitespace_pre();        // \w+|[^\w\s]+ kept, the rest removed
PreTokenizerPtr make_whitespace_split_pre();  // split on whitespace, removed
PreTokenizerPtr make_punctuation_pre(SplitBehavior behavior);
PreTokenizerPtr make_bert_pre();
PreTokenizerPtr make_sequence_pre(std::vector<PreTokenizerPtr> parts);

}  // namespace qf::tok
