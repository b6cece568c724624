#include "tokenizer/decoders.hpp"

#include "tokenizer/byte_level.hpp"
#include "tokenizer/utf8.hpp"

namespace qf::tok {

namespace {

std::vector<std::string_view> chars_of(std::string_view s) {
  std::vector<std::string_view> v;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = std::min(utf8::char_len(static_cast<unsigned char>(s[i])), s.size() - i);
    v.push_back(s.substr(i, n));
    i += n;
  }
  return v;
}

class ByteLevelDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      const std::size_t mark = bytes.size();
      bool ok = true;
      for (std::size_t i = 0; i < t.size() && ok;) {
        std::size_t n = 0;
        const int b = byte_level::char_to_byte(utf8::decode_at(t, i, n));
        if (b < 0) ok = false;
        else bytes.push_back(static_cast<char>(b));
        i += n;
      }
      if (!ok) {  // a character outside the table: the token's own bytes
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, utf8::lossy(bytes));
  }
};

class MetaspaceDec final : public Decoder {
 public:
  MetaspaceDec(std::string rep, PrependScheme scheme) : rep_(std::move(rep)), scheme_(scheme) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      for (std::string_view c : chars_of(tokens[i])) {
        if (c == rep_) {
          if (!(i == 0 && scheme_ != PrependScheme::Never)) out.push_back(' ');
        } else {
          out.append(c);
        }
      }
      tokens[i].swap(out);
    }
  }

 private:
  std::string rep_;
  PrependScheme scheme_;
};

class ReplaceDec final : public Decoder {
 public:
  ReplaceDec(Pattern p, std::string content) : p_(std::move(p)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) t = p_.replace_all(t, content_);
  }

 private:
  Pattern p_;
  std::string content_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class ByteFallbackDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (utf8::is_valid(pending))
        out.push_back(pending);
      else
        for (std::size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      pending.clear();
    };
    for (std::string& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
        if (hi >= 0 && lo >= 0) byte = hi * 16 + lo;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class FuseDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class StripDec final : public Decoder {
 public:
  StripDec(std::string content, std::size_t start, std::size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      const std::vector<std::string_view> cs = chars_of(t);
      std::size_t start_cut = 0;
      for (std::size_t i = 0; i < cs.size() && i < start_; ++i) {
        if (cs[i] != content_) break;
        start_cut = i + 1;
      }
      std::size_t stop_cut = cs.size();
      for (std::size_t i = 0; i < stop_ && i < cs.size(); ++i) {
        const std::size_t index = cs.size() - i - 1;
        if (cs[index] != content_) break;
        stop_cut = index;
      }
      std::string out;
      for (std::size_t i = start_cut; i < stop_cut; ++i) out.append(cs[i]);
      t.swap(out);
    }
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class BpeDec final : public Decoder {
 public:
  explicit BpeDec(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    if (suffix_.empty()) return;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string rep = i + 1 == tokens.size() ? "" : " ";
      std::string out;
      const std::string& t = tokens[i];
      for (std::size_t p = 0; p < t.size();) {
        if (t.compare(p, suffix_.size(), suffix_) == 0) {
          out += rep;
          p += suffix_.size();
        } else {
          out.push_back(t[p++]);
        }
      }
      tokens[i].swap(out);
    }
  }

 private:
  std::string suffix_;
};

class SequenceDec final : public Decoder {
 public:
  explicit SequenceDec(std::vector<DecoderPtr> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }

 private:
  std::vector<DecoderPtr> parts_;
};

}  // namespace

DecoderPtr make_byte_level_decoder() { return std::make_shared<ByteLevelDec>(); }
DecoderPtr make_metaspace_decoder(std::string replacement, PrependScheme scheme) {
  return std::make_shared<MetaspaceDec>(std::move(replacement), scheme);
}
DecoderPtr make_replace_decoder(Pattern pattern, std::string content) {
  return std::make_shared<ReplaceDec>(std::move(pattern), std::move(content));
}
DecoderPtr make_byte_fallback_decoder() { return std::make_shared<ByteFallbackDec>(); }
DecoderPtr make_fuse_decoder() { return std::make_shared<FuseDec>(); }
DecoderPtr make_strip_decoder(std::string content, std::size_t start, std::size_t stop) {
  return std::make_shared<StripDec>(std::move(content), start, stop);
}
DecoderPtr make_bpe_decoder(std::string suffix) { return std::make_shared<BpeDec>(std::move(suffix)); }
DecoderPtr make_sequence_decoder(std::vector<DecoderPtr> parts) {
  return std::make_shared<SequenceDec>(std::move(parts));
}

}  // namespace qf::tok
