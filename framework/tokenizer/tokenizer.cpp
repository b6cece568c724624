#include "tokenizer/tokenizer.hpp"

#include "common/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/utf8.hpp"

namespace qf::tok {

Tokenizer Tokenizer::from_dir(const std::filesystem::path& dir) {
  const auto json = dir / "tokenizer.json";
  const auto config = dir / "tokenizer_config.json";
  return from_files(json, std::filesystem::exists(config) ? config : std::filesystem::path{});
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& tokenizer_json,
                                const std::filesystem::path& tokenizer_config) {
  return Tokenizer(load_tokenizer(tokenizer_json.string(), tokenizer_config.string()));
}

// Normalize, split out normalized added tokens, pre-tokenize, run the model.
void Tokenizer::Impl::encode_text(std::string text, bool at_start, std::vector<int32_t>& ids) const {
  if (normalizer) normalizer->normalize(text);
  if (text.empty()) return;
  std::vector<Piece> pieces;
  auto run = [&](std::string piece, bool start) {
    pieces.clear();
    pieces.push_back({std::move(piece), start});
    if (pre_tokenizer) pre_tokenizer->apply(pieces);
    for (const Piece& p : pieces) model->tokenize(p.text, ids);
  };
  if (normalized_matcher.empty()) {
    run(std::move(text), at_start);
    return;
  }
  for (const Segment& seg : normalized_matcher.split(text)) {
    if (seg.token >= 0)
      ids.push_back(seg.token);
    else if (seg.span.second > seg.span.first)
      run(text.substr(seg.span.first, seg.span.second - seg.span.first), at_start && seg.span.first == 0);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::string repaired;
  if (!utf8::is_valid(text)) {
    repaired = utf8::lossy(text);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (impl_->raw_matcher.empty()) {
    impl_->encode_text(std::string(text), true, ids);
  } else {
    for (const Segment& seg : impl_->raw_matcher.split(text)) {
      if (seg.token >= 0)
        ids.push_back(seg.token);
      else if (seg.span.second > seg.span.first)
        impl_->encode_text(std::string(text.substr(seg.span.first, seg.span.second - seg.span.first)),
                           seg.span.first == 0, ids);
    }
  }
  if (add_special_tokens) this->add_special_tokens(ids);
  return ids;
}

void Tokenizer::add_special_tokens(std::vector<int32_t>& ids) const {
  if (impl_->post_processor) impl_->post_processor->apply(ids);
}

const std::vector<int32_t>& Tokenizer::special_prefix() const { return impl_->special_prefix; }
const std::vector<int32_t>& Tokenizer::special_suffix() const { return impl_->special_suffix; }
std::optional<bool> Tokenizer::config_add_bos_token() const { return impl_->config_add_bos; }
std::optional<bool> Tokenizer::config_add_eos_token() const { return impl_->config_add_eos; }

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* t = nullptr;
    auto it = impl_->added_by_id.find(id);
    if (it != impl_->added_by_id.end())
      t = &it->second;
    else
      t = impl_->model->id_to_token(id);
    if (!t) continue;
    if (skip_special_tokens && impl_->special_contents.count(*t)) continue;
    tokens.push_back(*t);
  }
  std::string out;
  if (impl_->decoder) {
    impl_->decoder->decode_chain(tokens);
    for (const std::string& t : tokens) out += t;
  } else {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
  }
  return out;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
int32_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->added_by_content.find(std::string(token));
  if (it != impl_->added_by_content.end()) return it->second;
  return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return it->second;
  const std::string* t = impl_->model->id_to_token(id);
  return t ? *t : std::string();
}

bool Tokenizer::is_special(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && impl_->special_contents.count(it->second) > 0;
}

}  // namespace qf::tok
