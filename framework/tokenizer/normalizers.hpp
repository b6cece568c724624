#pragma once
// Normalizers (tokenizers' `normalizer` key). Only the normalized text matters for ids, so they are
// plain string -> string transforms.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pattern.hpp"

namespace qf::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& s) const = 0;
};

using NormalizerPtr = std::shared_ptr<const Normalizer>;

NormalizerPtr make_prepend_normalizer(std::string prepend);
NormalizerPtr make_replace_normalizer(Pattern pattern, std::string content);
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> parts);
NormalizerPtr make_strip_normalizer(bool left, bool right);

// Unicode forms and lowercasing come from ICU; they return nullptr when built without ICU.
enum class UnicodeForm { NFC, NFD, NFKC, NFKD };
NormalizerPtr make_unicode_normalizer(UnicodeForm form);
NormalizerPtr make_lowercase_normalizer();
bool have_icu();

}  // namespace qf::tok
