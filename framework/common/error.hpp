#pragma once
// The error taxonomy, the same on both sides of the plugin boundary (plugin.h's qf_status):
//  - Error: the user's to fix (bad input, option, file); the message names the file, key or tensor
//    and says what to do.
//  - IoError: the file system failed (disk full, permission, ...).
//  - OutOfMemoryError, Cancelled: the machine ran out, or the user stopped the run.
//  - InternalError: an invariant broke, a bug; raised by QF_ASSERT.
// All derive from Error so one handler reports them; kind() tells them apart where it matters
// (status codes across the ABI, exit messages).
#include <stdexcept>
#include <string>

namespace qf {

enum class ErrorKind { user, io, out_of_memory, cancelled, bug };

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ErrorKind kind = ErrorKind::user)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message, ErrorKind::io) {}
};

class OutOfMemoryError : public Error {
 public:
  explicit OutOfMemoryError(const std::string& message) : Error(message, ErrorKind::out_of_memory) {}
};

class Cancelled : public Error {
 public:
  explicit Cancelled(const std::string& message) : Error(message, ErrorKind::cancelled) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message) : Error(message, ErrorKind::bug) {}
};

[[noreturn]] void fail_invariant(const char* expr, const char* file, int line, const std::string& what);

// Throws an error of e's kind (and type) whose message is `context` followed by e's message: for
// handlers that add where something failed without turning an I/O failure into a user error.
[[noreturn]] void rethrow_with_context(const Error& e, const std::string& context);

// What to show a user for any exception: the message without the C++ backtrace LibTorch appends
// to its own errors.
std::string user_message(const std::exception& e);

}  // namespace qf

#define QF_ASSERT(cond, what)                                          \
  do {                                                                 \
    if (!(cond)) ::qf::fail_invariant(#cond, __FILE__, __LINE__, what); \
  } while (0)
