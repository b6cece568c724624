// Errors on the plugin side of the boundary: an exception type that carries an ABI status code,
// the checks plugin authors use, and the guard that turns any exception into a status code plus
// message so nothing C++ ever crosses into the host.
//
//   QF_SDK_CHECK(bits == 4, "option bits must be 4, got " + std::to_string(bits));  // user error
//   QF_SDK_ASSERT(rows == expected);                                                  // a bug here
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "quantforge/plugin.h"

namespace qf::sdk {

// An error with an ABI status code; thrown by the wrappers and by plugin code, caught by guard().
class PluginError : public std::runtime_error {
 public:
  PluginError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const { return code_; }

 private:
  int32_t code_;
};

// LibTorch appends a C++ backtrace to its messages after this line; users must never see it.
inline std::string message_without_backtrace(const char* what) {
  std::string text = what ? what : "";
  for (const char* marker : {"\nException raised from ", "\nFrame #0", "\nframe #0"}) {
    const auto at = text.find(marker);
    if (at != std::string::npos) text.erase(at);
  }
  return text;
}

// True when an exception's text reports a failed allocation. LibTorch's CPU allocator throws its
// own error type ("DefaultCPUAllocator: not enough memory"), not std::bad_alloc, so the type alone
// does not tell; these are the wordings of LibTorch, libstdc++ and the C library.
inline bool is_allocation_failure_message(const char* what) {
  if (!what) return false;
  for (const char* marker : {"not enough memory", "can't allocate memory", "DefaultCPUAllocator", "std::bad_alloc",
                             ": out of memory", "Cannot allocate memory"})
    if (std::strstr(what, marker)) return true;
  return false;
}

inline void set_error(qf_error* err, int32_t code, const std::string& message) {
  if (!err) return;
  err->code = code;
  std::strncpy(err->message, message.c_str(), QF_ERROR_MESSAGE_CAPACITY - 1);
  err->message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
}

// set_error for the catch blocks of noexcept boundaries: copies `what` up to LibTorch's backtrace
// (if any) into the caller's buffer without allocating, so reporting an out-of-memory error cannot
// itself fail.
inline void set_error_text(qf_error* err, int32_t code, const char* what) noexcept {
  if (!err) return;
  err->code = code;
  const char* text = what ? what : "";
  std::size_t n = std::strlen(text);
  for (const char* marker : {"\nException raised from ", "\nFrame #0", "\nframe #0"})
    if (const char* at = std::strstr(text, marker)) n = std::min<std::size_t>(n, static_cast<std::size_t>(at - text));
  n = std::min<std::size_t>(n, QF_ERROR_MESSAGE_CAPACITY - 1);
  std::memcpy(err->message, text, n);
  err->message[n] = '\0';
}

// Runs `body`, turning any exception into a status code and message. Never throws.
// PluginError keeps its code; std::bad_alloc and LibTorch's allocation failures are out of memory;
// std::invalid_argument is a user error (bad option value or input); anything else is a bug in the
// plugin.
template <class Body>
int32_t guard(qf_error* err, Body&& body) noexcept {
  try {
    body();
    return QF_OK;
  } catch (const PluginError& e) {
    set_error_text(err, e.code(), e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    set_error_text(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
    return QF_ERR_OUT_OF_MEMORY;
  } catch (const std::invalid_argument& e) {
    set_error_text(err, QF_ERR_INVALID_ARGUMENT, e.what());
    return QF_ERR_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    const int32_t code = is_allocation_failure_message(e.what()) ? QF_ERR_OUT_OF_MEMORY : QF_ERR_INTERNAL;
    set_error_text(err, code, e.what());
    return code;
  } catch (...) {
    set_error_text(err, QF_ERR_INTERNAL, "unknown exception");
    return QF_ERR_INTERNAL;
  }
}

// Throws PluginError with the host's code and message when a host call failed.
inline void check(int32_t status, const qf_error& err) {
  if (status != QF_OK) throw PluginError(status, err.message[0] ? err.message : "the host reported an error");
}

[[noreturn]] inline void fail_assert(const char* expr, const char* file, int line) {
  throw PluginError(QF_ERR_INTERNAL, std::string("internal error (a bug in this plugin): ") + expr + " failed at " +
                                         file + ":" + std::to_string(line));
}

}  // namespace qf::sdk

// A condition the user can fix (bad option, input the method cannot handle): the host reports
// `message` as a user error.
#define QF_SDK_CHECK(cond, message)                                                          \
  do {                                                                                       \
    if (!(cond)) throw ::qf::sdk::PluginError(QF_ERR_INVALID_ARGUMENT, std::string(message)); \
  } while (0)

// An invariant of the plugin's own code: the host reports a bug in the plugin.
#define QF_SDK_ASSERT(cond)                                             \
  do {                                                                  \
    if (!(cond)) ::qf::sdk::fail_assert(#cond, __FILE__, __LINE__);     \
  } while (0)
