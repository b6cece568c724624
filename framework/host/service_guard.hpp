#pragma once
// The host side of the boundary: runs a service body for a plugin and turns every C++ exception
// into an ABI status code plus message, so nothing C++ crosses into plugin code.
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "quantforge/plugin.h"

namespace qf::host {

// Thrown by host services to return a specific ABI status code.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(int32_t code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int32_t code() const { return code_; }

 private:
  int32_t code_;
};

inline void fill_error(qf_error* err, int32_t code, const std::string& message) {
  if (!err) return;
  err->code = code;
  std::strncpy(err->message, message.c_str(), QF_ERROR_MESSAGE_CAPACITY - 1);
  err->message[QF_ERROR_MESSAGE_CAPACITY - 1] = '\0';
}

template <class Body>
int32_t serve(qf_error* err, Body&& body) noexcept {
  try {
    body();
    return QF_OK;
  } catch (const ServiceError& e) {
    fill_error(err, e.code(), e.what());
    return e.code();
  } catch (const std::bad_alloc&) {
    fill_error(err, QF_ERR_OUT_OF_MEMORY, "out of memory");
    return QF_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    fill_error(err, QF_ERR_INVALID_ARGUMENT, e.what());
    return QF_ERR_INVALID_ARGUMENT;
  } catch (...) {
    fill_error(err, QF_ERR_INTERNAL, "unknown error in the host");
    return QF_ERR_INTERNAL;
  }
}

}  // namespace qf::host
