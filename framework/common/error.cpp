#include "common/error.hpp"

#include <sstream>

#include "quantforge/errors.hpp"

namespace qf {

void fail_invariant(const char* expr, const char* file, int line, const std::string& what) {
  std::ostringstream os;
  os << "internal error (this is a bug in QuantForge): " << what << " [" << expr << " at " << file << ":"
     << line << "]";
  throw InternalError(os.str());
}

std::string user_message(const std::exception& e) { return sdk::message_without_backtrace(e.what()); }

}  // namespace qf
