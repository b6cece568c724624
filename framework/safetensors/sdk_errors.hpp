#pragma once
// Internal: the writers are the SDK's; this turns the SDK's exceptions into the host's taxonomy
// (common/error.hpp) so callers keep catching qf::Error.
#include <new>
#include <stdexcept>

#include "common/error.hpp"
#include "quantforge/errors.hpp"

namespace qf::st::detail {

template <class Body>
decltype(auto) sdk_call(Body&& body) {
  try {
    return body();
  } catch (const sdk::PluginError& e) {
    if (e.code() == QF_ERR_IO) throw IoError(e.what());
    if (e.code() == QF_ERR_INTERNAL) throw InternalError(e.what());
    throw Error(e.what());
  } catch (const std::invalid_argument& e) {  // the caller's data: a name, a size, metadata
    throw Error(e.what());
  } catch (const std::logic_error& e) {  // calls out of order
    throw InternalError(e.what());
  }
}

}  // namespace qf::st::detail
