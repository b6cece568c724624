#include "tokenizer/normalizers.hpp"

#include "tokenizer/regex.hpp"
#include "tokenizer/utf8.hpp"

namespace qf::tok {

namespace {

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : p_(std::move(p)) {}
  void normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, p_);
  }

 private:
  std::string p_;
};

class Replace final : public Normalizer {
 public:
  Replace(Pattern pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& s) const override { s = pattern_.replace_all(s, content_); }

 private:
  Pattern pattern_;
  std::string content_;
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<NormalizerPtr> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }

 private:
  std::vector<NormalizerPtr> parts_;
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s) const override {
    std::size_t b = 0, e = s.size();
    if (left_) {
      while (b < e) {
        const std::size_t n = utf8::char_len(static_cast<unsigned char>(s[b]));
        if (!is_whitespace_char(std::string_view(s).substr(b, n))) break;
        b += n;
      }
    }
    if (right_) {
      while (e > b) {
        std::size_t k = e - 1;
        while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        if (!is_whitespace_char(std::string_view(s).substr(k, e - k))) break;
        e = k;
      }
    }
    s = s.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

}  // namespace

NormalizerPtr make_prepend_normalizer(std::string prepend) { return std::make_shared<Prepend>(std::move(prepend)); }
NormalizerPtr make_replace_normalizer(Pattern pattern, std::string content) {
  return std::make_shared<Replace>(std::move(pattern), std::move(content));
}
NormalizerPtr make_sequence_normalizer(std::vector<NormalizerPtr> parts) {
  return std::make_shared<Sequence>(std::move(parts));
}
NormalizerPtr make_strip_normalizer(bool left, bool right) { return std::make_shared<Strip>(left, right); }

}  // namespace qf::tok
