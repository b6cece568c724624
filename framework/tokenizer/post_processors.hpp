#pragma once
// Post-processors (tokenizers' `post_processor` key), single-sequence only: they add the special
// tokens of the template when add_special_tokens is on. ByteLevel only changes offsets: a no-op here.
#include <cstdint>
#include <memory>
#include <vector>

namespace qf::tok {

// One element of a template: either the input sequence or a run of fixed ids.
struct TemplatePart {
  bool is_sequence = false;
  std::vector<int32_t> ids;  // when !is_sequence
};

class PostProcessor {
 public:
  explicit PostProcessor(std::vector<TemplatePart> single) : single_(std::move(single)) {}
  void apply(std::vector<int32_t>& ids) const;
  const std::vector<TemplatePart>& single() const { return single_; }

 private:
  std::vector<TemplatePart> single_;
};

// Flattens a Sequence of processors: each wraps the output of the previous one.
std::vector<TemplatePart> compose_templates(const std::vector<std::vector<TemplatePart>>& stages);

}  // namespace qf::tok
