#pragma once
// The token stream a perplexity run scores. By default it is what transformers' `tokenizer(text)`
// gives: the text encoded with tokenizer.json's post-processor, e.g. one <s> at the start for
// Llama-2 / Mistral-style tokenizers and nothing for Qwen2. transformers 5 applies that
// post-processor as written even where tokenizer_config.json's add_bos_token / add_eos_token say
// otherwise; such a disagreement is reported as a warning (transformers 4's Llama tokenizer
// followed the config keys instead), and --add-bos / --no-bos choose explicitly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace qf::eval {

enum class SpecialTokens {
  Tokenizer,  // the tokenizer's post-processor, as tokenizer(text) (the default)
  None,       // no special tokens at all (--no-bos)
  Bos,        // exactly one BOS before the text, nothing else (--add-bos)
};

struct EvalTokens {
  std::vector<int32_t> ids;
  std::string special;                // which special tokens the stream holds, for the log and the table
  std::vector<std::string> warnings;  // tokenizer_config.json disagreeing with tokenizer.json
};

// qf::Error for SpecialTokens::Bos when the tokenizer defines no BOS token.
EvalTokens tokenize_for_eval(const tok::Tokenizer& tokenizer, std::string_view text, SpecialTokens mode);

}  // namespace qf::eval
