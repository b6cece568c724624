#include "common/error.hpp"

#include <sstream>

namespace qf {

void fail_invariant(const char* expr, const char* file, int line, const std::string& what) {
  std::ostringstream os;
  os << "internal error (this is a bug in QuantForge): " << what << " [" << expr << " at " << file << ":"
     << line << "]";
  throw std::logic_error(os.str());
}

}  // namespace qf
