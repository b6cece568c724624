#pragma once
// The host side of the boundary: status codes for exceptions and exceptions for status codes, one
// mapping for every direction, so a user error, a bug, out of memory, an I/O failure or a
// cancellation keeps its kind from where it happened to the message the user reads.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "common/error.hpp"
#include "quantforge/errors.hpp"
#include "quantforge/plugin.h"
#include "quantforge/struct_copy.hpp"

namespace qf::host {

// Thrown by host services to return a specific ABI status code.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const { return code_; }

 private:
  int32_t code_;
};

// Checks an out-struct a plugin passed: present, and at least as large as the struct's first
// shipped version (anything smaller is a plugin bug that copying could not repair).
inline void require_out_struct(const void* out, std::size_t first_version_size, const char* type) {
  if (out == nullptr) throw ServiceError(QF_ERR_INVALID_ARGUMENT, std::string(type) + " output pointer is NULL");
  const uint32_t size = qf::abi::caller_struct_size(out);
  if (size < first_version_size)
    throw ServiceError(QF_ERR_INVALID_ARGUMENT, std::string(type) + ".struct_size is " + std::to_string(size) +
                                                    ", smaller than its first version's " +
                                                    std::to_string(first_version_size) + " bytes: set it to sizeof(" +
                                                    type + ")");
}

inline void fill_error(qf_error* err, int32_t code, const std::string& message) {
  if (!err) return;
  err->code = code;
  std::strncpy(err->message, message.c_str(), QF_ERROR_MESSAGE_CAPACITY - 1);
  err->message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
}

inline int32_t status_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::user: return QF_ERR_INVALID_ARGUMENT;
    case ErrorKind::io: return QF_ERR_IO;
    case ErrorKind::out_of_memory: return QF_ERR_OUT_OF_MEMORY;
    case ErrorKind::cancelled: return QF_ERR_CANCELLED;
    case ErrorKind::bug: return QF_ERR_INTERNAL;
  }
  return QF_ERR_INTERNAL;
}

// The status code for an exception that reached the boundary. LibTorch reports a failed CPU
// allocation as a generic error whose text says "not enough memory": that one is out of memory.
inline int32_t status_of(const std::exception& e) {
  if (const auto* s = dynamic_cast<const ServiceError*>(&e)) return s->code();
  if (const auto* p = dynamic_cast<const sdk::PluginError*>(&e)) return p->code();
  if (const auto* q = dynamic_cast<const Error*>(&e)) return status_of(q->kind());
  if (dynamic_cast<const std::bad_alloc*>(&e)) return QF_ERR_OUT_OF_MEMORY;
  if (sdk::is_allocation_failure_message(e.what())) return QF_ERR_OUT_OF_MEMORY;
  return QF_ERR_INTERNAL;
}

// Rethrows a plugin's failure on the host side as the exception of its kind, with `message`.
[[noreturn]] inline void throw_status(int32_t status, const std::string& message) {
  switch (status) {
    case QF_ERR_IO: throw IoError(message);
    case QF_ERR_OUT_OF_MEMORY: throw OutOfMemoryError(message);
    case QF_ERR_CANCELLED: throw Cancelled(message);
    case QF_ERR_INVALID_ARGUMENT:
    case QF_ERR_NOT_FOUND:
    case QF_ERR_UNSUPPORTED: throw Error(message);
    default: throw InternalError(message);
  }
}

// Runs a service body for a plugin; every exception becomes its status code plus message.
template <class Body>
int32_t serve(qf_error* err, Body&& body) noexcept {
  try {
    body();
    return QF_OK;
  } catch (const std::bad_alloc&) {
    sdk::set_error_text(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
    return QF_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    const int32_t code = status_of(e);
    sdk::set_error_text(err, code, e.what());  // without allocating: this may be an out-of-memory path
    return code;
  } catch (...) {
    sdk::set_error_text(err, QF_ERR_INTERNAL, "unknown error in the host");
    return QF_ERR_INTERNAL;
  }
}

}  // namespace qf::host
