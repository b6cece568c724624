#include "tokenizer/post_processors.hpp"

namespace qf::tok {

void PostProcessor::apply(std::vector<int32_t>& ids) const {
  std::vector<int32_t> out;
  out.reserve(ids.size() + 4);
  for (const TemplatePart& p : single_) {
    if (p.is_sequence)
      out.insert(out.end(), ids.begin(), ids.end());
    else
      out.insert(out.end(), p.ids.begin(), p.ids.end());
  }
  ids.swap(out);
}

std::vector<TemplatePart> compose_templates(const std::vector<std::vector<TemplatePart>>& stages) {
  std::vector<TemplatePart> cur{TemplatePart{true, {}}};
  for (const auto& stage : stages) {
    std::vector<TemplatePart> next;
    for (const TemplatePart& p : stage) {
      if (p.is_sequence)
        next.insert(next.end(), cur.begin(), cur.end());
      else
        next.push_back(p);
    }
    cur.swap(next);
  }
  return cur;
}

}  // namespace qf::tok
