#include "tokenizer/pattern.hpp"

#include <algorithm>

namespace qf::tok {

std::vector<Cut> Pattern::find_matches(std::string_view s) const {
  std::vector<Cut> cuts;
  if (s.empty()) {
    cuts.push_back({{0, 0}, false});
    return cuts;
  }
  std::vector<Span> matches;
  if (!literal_.empty()) {
    for (std::size_t p = s.find(literal_); p != std::string_view::npos; p = s.find(literal_, p + literal_.size()))
      matches.push_back({p, p + literal_.size()});
  } else {
    re_->find_all(s, matches);
  }
  std::size_t prev = 0;
  for (const Span& m : matches) {
    if (prev != m.first) cuts.push_back({{prev, m.first}, false});
    cuts.push_back({m, true});
    prev = m.second;
  }
  if (prev != s.size()) cuts.push_back({{prev, s.size()}, false});
  return cuts;
}

std::string Pattern::replace_all(std::string_view s, std::string_view content) const {
  std::string out;
  out.reserve(s.size());
  for (const Cut& c : find_matches(s)) {
    if (c.is_match)
      out.append(content);
    else
      out.append(s.substr(c.span.first, c.span.second - c.span.first));
  }
  return out;
}

std::vector<Span> split_spans(std::vector<Cut> cuts, SplitBehavior behavior, bool invert) {
  if (invert)
    for (Cut& c : cuts) c.is_match = !c.is_match;
  std::vector<Cut> acc;
  acc.reserve(cuts.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      acc = std::move(cuts);
      break;
    case SplitBehavior::Removed:
      for (const Cut& c : cuts)
        if (!c.is_match) acc.push_back(c);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const Cut& c : cuts) {
        if (c.is_match && !previous_match) {
          if (!acc.empty())
            acc.back().span.second = c.span.second;
          else
            acc.push_back({c.span, true});
        } else {
          acc.push_back({c.span, false});
        }
        previous_match = c.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = cuts.rbegin(); it != cuts.rend(); ++it) {
        if (it->is_match && !previous_match) {
          if (!acc.empty())
            acc.back().span.first = it->span.first;
          else
            acc.push_back({it->span, true});
        } else {
          acc.push_back({it->span, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(acc.begin(), acc.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (const Cut& c : cuts) {
        if (c.is_match == previous_match && !acc.empty())
          acc.back().span.second = c.span.second;
        else
          acc.push_back(c);
        previous_match = c.is_match;
      }
      break;
    }
  }
  std::vector<Span> spans;
  spans.reserve(acc.size());
  for (const Cut& c : acc) spans.push_back(c.span);
  return spans;
}

}  // namespace qf::tok
