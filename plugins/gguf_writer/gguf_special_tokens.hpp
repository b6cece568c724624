// The special-token keys llama.cpp reads (tokenizer.ggml.{bos,eos,eot,eom,unknown,seperator,padding,
// mask}_token_id and add_{bos,eos,sep}_token), resolved the way llama.cpp's converter resolves them from
// tokenizer.json, tokenizer_config.json and config.json, so a GGUF of ours starts and stops text where
// one of the converter's does.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace qf::gguf {

// The text of a special token tokenizer_config.json names under `key` (a string or {"content": ...});
// "" when absent.
std::string config_token(const nlohmann::json& tokenizer_config, const char* key);

struct SpecialTokens {
  // Kind ("bos", "eos", "eot", "eom", "unk", "sep", "pad", "mask") -> id, in the order the converter
  // sets them (kinds it has no GGUF key for, like "cls", are left out).
  std::vector<std::pair<std::string, uint32_t>> ids;
  // "bos" / "eos" / "sep" -> add it around a prompt or not; a kind absent is not written (llama.cpp then
  // uses its architecture default).
  std::map<std::string, bool> add;
};

// How tokens are resolved:
//  - Whether to add BOS / EOS / SEP follows tokenizer.json's post-processor, which is what transformers
//    applies in `tokenizer(text)`: RobertaProcessing adds all three; a TemplateProcessing single-sequence
//    template adds BOS when it starts with the configured bos_token or cls_token (filling whichever is
//    unset) and EOS when it ends with a special token; a special token between A and B in the pair
//    template adds SEP when it is the sep_token or eos_token and the single template ends with none.
//    tokenizer_config.json's add_bos_token / add_eos_token / add_sep_token override it.
//  - A trailing special token in the single template that is not the configured eos_token becomes the
//    EOS (that is what ends every encoded text), and the configured EOS becomes the end-of-turn token
//    (EOT, or EOM if EOT is taken), so generation still stops at it.
//  - Ids: each configured token's id in tokenizer.json's added_tokens; kinds still unset take
//    config.json's `<kind>_token_id` (or text_config's) when it is a single integer. Ids at or above
//    `vocab_size` are dropped.
// Without a tokenizer_config.json (or an empty one) only the add flags and config.json's ids are read.
SpecialTokens special_tokens(const nlohmann::json& tokenizer_json, const nlohmann::json& tokenizer_config,
                             const nlohmann::json& model_config, int64_t vocab_size);

}  // namespace qf::gguf
