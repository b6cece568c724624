#pragma once
// "Did you mean ...?" for a misspelt key.
#include <string>
#include <vector>

namespace qf::recipe {

// The candidate nearest to `name` by edit distance (insert, delete, replace, swap two neighbours),
// when it is close enough to be a typo: at most one edit per three characters, at least one.
// The first candidate wins a tie. Empty when none is close.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace qf::recipe
