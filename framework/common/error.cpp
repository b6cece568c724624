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

void rethrow_with_context(const Error& e, const std::string& context) {
  const std::string message = context + e.what();
  switch (e.kind()) {
    case ErrorKind::io: throw IoError(message);
    case ErrorKind::out_of_memory: throw OutOfMemoryError(message);
    case ErrorKind::cancelled: throw Cancelled(message);
    case ErrorKind::bug: throw InternalError(message);
    case ErrorKind::user: break;
  }
  throw Error(message);
}

}  // namespace qf
