// Unicode normalization forms and full lowercasing through ICU (built only when ICU is found).
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <stdexcept>

#include "tokenizer/normalizers.hpp"

namespace qf::tok {

namespace {

class IcuNormalizer final : public Normalizer {
 public:
  explicit IcuNormalizer(UnicodeForm form) {
    UErrorCode err = U_ZERO_ERROR;
    switch (form) {
      case UnicodeForm::NFC: n_ = icu::Normalizer2::getNFCInstance(err); break;
      case UnicodeForm::NFD: n_ = icu::Normalizer2::getNFDInstance(err); break;
      case UnicodeForm::NFKC: n_ = icu::Normalizer2::getNFKCInstance(err); break;
      case UnicodeForm::NFKD: n_ = icu::Normalizer2::getNFKDInstance(err); break;
    }
    if (U_FAILURE(err)) throw std::runtime_error(std::string("ICU normalizer unavailable: ") + u_errorName(err));
  }
  void normalize(std::string& s) const override {
    UErrorCode err = U_ZERO_ERROR;
    const icu::UnicodeString in = icu::UnicodeString::fromUTF8(s);
    if (n_->isNormalized(in, err) && U_SUCCESS(err)) return;
    err = U_ZERO_ERROR;
    icu::UnicodeString out = n_->normalize(in, err);
    if (U_FAILURE(err)) throw std::runtime_error(std::string("ICU normalize failed: ") + u_errorName(err));
    s.clear();
    out.toUTF8String(s);
  }

 private:
  const icu::Normalizer2* n_ = nullptr;
};

class IcuLowercase final : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
    u.toLower(icu::Locale::getRoot());
    s.clear();
    u.toUTF8String(s);
  }
};

}  // namespace

NormalizerPtr make_unicode_normalizer(UnicodeForm form) { return std::make_shared<IcuNormalizer>(form); }
NormalizerPtr make_lowercase_normalizer() { return std::make_shared<IcuLowercase>(); }
bool have_icu() { return true; }

}  // namespace qf::tok
