#pragma once
// The assembled components of a Tokenizer (filled by json_load.cpp, run by tokenizer.cpp).
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/added_tokens.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/post_processors.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/tokenizer.hpp"

namespace qf::tok {

struct Tokenizer::Impl {
  std::unique_ptr<BpeModel> model;
  NormalizerPtr normalizer;
  PreTokenizerPtr pre_tokenizer;
  std::optional<PostProcessor> post_processor;
  DecoderPtr decoder;

  std::vector<AddedToken> added;
  std::unordered_map<std::string, int32_t> added_by_content;
  std::unordered_map<int32_t, std::string> added_by_id;
  std::unordered_set<std::string> special_contents;
  AddedTokenMatcher raw_matcher;         // normalized == false
  AddedTokenMatcher normalized_matcher;  // normalized == true (patterns normalized)

  std::optional<int32_t> bos, eos;
  bool add_bos = false, add_eos = false;
  std::optional<bool> config_add_bos, config_add_eos;  // as tokenizer_config.json states them
  std::vector<int32_t> special_prefix, special_suffix;  // the post-processor's ids around the text
  int32_t vocab_size = 0;

  void encode_text(std::string text, bool at_start, std::vector<int32_t>& ids) const;
};

// json_load.cpp
std::shared_ptr<Tokenizer::Impl> load_tokenizer(const std::string& tokenizer_json, const std::string& config_json);

}  // namespace qf::tok
