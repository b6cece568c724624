#include "tokenizer/pre_tokenizers.hpp"

#include "tokenizer/byte_level.hpp"

namespace qf::tok {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Cuts each piece with `pattern` + `behavior` and keeps the non-empty results.
void split_pieces(std::vector<Piece>& pieces, const Pattern& pattern, SplitBehavior behavior, bool invert) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (Piece& p : pieces) {
    for (const Span& sp : split_spans(pattern.find_matches(p.text), behavior, invert)) {
      if (sp.second == sp.first) continue;
      out.push_back({p.text.substr(sp.first, sp.second - sp.first), p.at_start && sp.first == 0});
    }
  }
  pieces.swap(out);
}

class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), pattern_(kGpt2Pattern, false) {}
  void apply(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_)
      for (Piece& p : pieces)
        if (!p.text.empty() && p.text[0] != ' ') p.text.insert(0, 1, ' ');
    if (use_regex_) split_pieces(pieces, pattern_, SplitBehavior::Isolated, false);
    std::string mapped;
    for (Piece& p : pieces) {
      mapped.clear();
      byte_level::encode_bytes(p.text, mapped);
      p.text.swap(mapped);
    }
  }

 private:
  bool add_prefix_space_, use_regex_;
  Pattern pattern_;
};

class SplitPre final : public PreTokenizer {
 public:
  SplitPre(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<Piece>& pieces) const override { split_pieces(pieces, pattern_, behavior_, invert_); }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class MetaspacePre final : public PreTokenizer {
 public:
  MetaspacePre(std::string replacement, PrependScheme scheme, bool split)
      : rep_(std::move(replacement)), scheme_(scheme), split_(split), space_(" ", true), rep_pattern_(rep_, true) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (Piece& p : pieces) {
      p.text = space_.replace_all(p.text, rep_);
      const bool starts = p.text.compare(0, rep_.size(), rep_) == 0;
      if (!starts && !p.text.empty() &&
          (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && p.at_start)))
        p.text.insert(0, rep_);
    }
    if (split_) split_pieces(pieces, rep_pattern_, SplitBehavior::MergedWithNext, false);
  }

 private:
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
  Pattern space_, rep_pattern_;
};

class SequencePre final : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<PreTokenizerPtr> parts) : parts_(std::move(parts)) {}
  void apply(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->apply(pieces);
  }

 private:
  std::vector<PreTokenizerPtr> parts_;
};

// Rust's char::is_ascii_punctuation || char::is_punctuation (Unicode P*).
const char* const kPunct = R"([\p{P}!-/:-@\[-`{-~])";

}  // namespace

PreTokenizerPtr make_byte_level_pre(bool add_prefix_space, bool use_regex) {
  return std::make_shared<ByteLevelPre>(add_prefix_space, use_regex);
}
PreTokenizerPtr make_split_pre(Pattern pattern, SplitBehavior behavior, bool invert) {
  return std::make_shared<SplitPre>(std::move(pattern), behavior, invert);
}
PreTokenizerPtr make_metaspace_pre(std::string replacement, PrependScheme scheme, bool split) {
  return std::make_shared<MetaspacePre>(std::move(replacement), scheme, split);
}
PreTokenizerPtr make_digits_pre(bool individual_digits) {
  // char::is_numeric: one match per character, so individual digits are Isolated, runs Contiguous.
  return make_split_pre(Pattern(R"(\p{N})", false),
                        individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false);
}
PreTokenizerPtr make_whitespace_pre() {
  return make_split_pre(Pattern(R"([\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+)", false),
                        SplitBehavior::Removed, true);
}
PreTokenizerPtr make_whitespace_split_pre() {
  return make_split_pre(Pattern(R"(\p{White_Space})", false), SplitBehavior::Removed, false);
}
PreTokenizerPtr make_punctuation_pre(SplitBehavior behavior) {
  return make_split_pre(Pattern(kPunct, false), behavior, false);
}
PreTokenizerPtr make_bert_pre() {
  return make_sequence_pre({make_whitespace_split_pre(), make_punctuation_pre(SplitBehavior::Isolated)});
}
PreTokenizerPtr make_sequence_pre(std::vector<PreTokenizerPtr> parts) {
  return std::make_shared<SequencePre>(std::move(parts));
}

}  // namespace qf::tok
