#pragma once
// User-facing errors: one clear message naming the file, key or tensor.
// Internal invariants use QF_ASSERT, which says "this is a bug".
#include <stdexcept>
#include <string>

namespace qf {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

[[noreturn]] void fail_invariant(const char* expr, const char* file, int line, const std::string& what);

}  // namespace qf

#define QF_ASSERT(cond, what)                                          \
  do {                                                                 \
    if (!(cond)) ::qf::fail_invariant(#cond, __FILE__, __LINE__, what); \
  } while (0)
