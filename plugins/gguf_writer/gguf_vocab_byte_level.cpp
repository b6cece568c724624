#include <stdexcept>

#include "gguf_vocab.hpp"

namespace qf::gguf {

bool looks_special(const std::string& t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  const auto wrapped = [&](const std::string& open, const std::string& close) {
    return t.size() >= open.size() + close.size() && t.compare(0, open.size(), open) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wrapped("<unused", ">");
}

std::pair<std::string, std::string> merge_parts(const nlohmann::json& m) {
  if (m.is_string()) {
    const std::string s = m.get<std::string>();
    const auto space = s.find(' ');
    if (space == std::string::npos) throw std::invalid_argument("tokenizer.json: merge without a space: " + s);
    return {s.substr(0, space), s.substr(space + 1)};
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return {m[0].get<std::string>(), m[1].get<std::string>()};
  throw std::invalid_argument("tokenizer.json: unknown merges format");
}

Vocabulary byte_level_vocab(const nlohmann::json& tok, int64_t vocab_size) {
  const nlohmann::json& model = tok["model"];
  const int64_t n = std::max<int64_t>(vocab_size, static_cast<int64_t>(model["vocab"].size()));
  Vocabulary v;
  v.model = "gpt2";
  v.tokens.resize(static_cast<size_t>(n));
  v.types.assign(static_cast<size_t>(n), kUnused);
  std::vector<bool> known(static_cast<size_t>(n), false);
  for (const auto& [text, id] : model["vocab"].items()) {
    const int64_t i = id.get<int64_t>();
    if (i < 0 || i >= n) continue;
    v.tokens[static_cast<size_t>(i)] = text;
    v.types[static_cast<size_t>(i)] = kNormal;
    known[static_cast<size_t>(i)] = true;
  }
  for (const auto& a : tok.value("added_tokens", nlohmann::json::array())) {
    const int64_t i = a.value("id", int64_t{-1});
    if (i < 0 || i >= n) continue;
    const std::string text = a.value("content", "");
    v.tokens[static_cast<size_t>(i)] = text;
    v.types[static_cast<size_t>(i)] = (a.value("special", false) || looks_special(text)) ? kControl : kUserDefined;
    known[static_cast<size_t>(i)] = true;
  }
  for (int64_t i = 0; i < n; ++i)
    if (!known[static_cast<size_t>(i)]) v.tokens[static_cast<size_t>(i)] = "[PAD" + std::to_string(i) + "]";

  for (const auto& mg : model.value("merges", nlohmann::json::array())) {
    if (mg.is_string()) {
      v.merges.push_back(mg.get<std::string>());  // already in the written form
      continue;
    }
    const auto [first, second] = merge_parts(mg);
    std::string parts[2];
    for (int k = 0; k < 2; ++k)  // a literal space inside a part is written as U+0120, as the converter does
      for (char c : k == 0 ? first : second) parts[k] += c == ' ' ? std::string("\xC4\xA0") : std::string(1, c);
    v.merges.push_back(parts[0] + " " + parts[1]);
  }
  return v;
}

}  // namespace qf::gguf
