// Whether llama.cpp should add BOS / EOS / SEP around a text: tokenizer.ggml.add_{bos,eos,sep}_token,
// read as llama.cpp's converter reads them. transformers applies tokenizer.json's post-processor
// (`tokenizer(text)`), so the post-processor decides; tokenizer_config.json's add_bos_token /
// add_eos_token / add_sep_token, where present, override it. (The converter also renames the EOS to a
// template's trailing special token; the EOS id here stays the configured one.)
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace qf::gguf {

// The text of a special token tokenizer_config.json names under `key` (a string or {"content": ...});
// "" when absent.
std::string config_token(const nlohmann::json& tokenizer_config, const char* key);

// "bos" / "eos" / "sep" -> add it or not; a kind absent from the map is not written (llama.cpp then
// uses its architecture default).
//  - RobertaProcessing: all three added.
//  - TemplateProcessing: the single-sequence template's leading special token adds BOS when it is the
//    configured bos_token or cls_token (or fills whichever is unset); a trailing special token adds EOS;
//    a special token between A and B in the pair template adds SEP when it is the sep_token or
//    eos_token (and the single template ends with none).
//  - Anything else (ByteLevel, no post-processor): nothing.
std::map<std::string, bool> add_special_tokens(const nlohmann::json& tokenizer_json,
                                               const nlohmann::json& tokenizer_config);

}  // namespace qf::gguf
