#pragma once
// Decoders (tokenizers' `decoder` key): each maps the token strings to new strings (decode_chain);
// the final text is their concatenation.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pattern.hpp"
#include "tokenizer/pre_tokenizers.hpp"

namespace qf::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

using DecoderPtr = std::shared_ptr<const Decoder>;

DecoderPtr make_byte_level_decoder();
DecoderPtr make_metaspace_decoder(std::string replacement, PrependScheme scheme);
DecoderPtr make_replace_decoder(Pattern pattern, std::string content);
DecoderPtr make_byte_fallback_decoder();
DecoderPtr make_fuse_decoder();
DecoderPtr make_strip_decoder(std::string content, std::size_t start, std::size_t stop);
DecoderPtr make_bpe_decoder(std::string suffix);
DecoderPtr make_sequence_decoder(std::vector<DecoderPtr> parts);

}  // namespace qf::tok
