// Built instead of unicode_icu.cpp when ICU is not available: the Unicode normalizers are unsupported.
#include "tokenizer/normalizers.hpp"

namespace qf::tok {

NormalizerPtr make_unicode_normalizer(UnicodeForm) { return nullptr; }
NormalizerPtr make_lowercase_normalizer() { return nullptr; }
bool have_icu() { return false; }

}  // namespace qf::tok
