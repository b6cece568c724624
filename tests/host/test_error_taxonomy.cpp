// One error taxonomy across the plugin boundary: every kind of failure keeps its status code from
// the service that failed, through the plugin, back to the exception the host raises.
#include <catch2/catch.hpp>
#include <functional>

#include "host/session.hpp"

using qf::host::call_plugin;
using qf::host::serve;

namespace {

int32_t code_of(const std::function<void()>& body) {
  qf_error err{};
  return serve(&err, body);
}

// What the host raises for a plugin call that returned `status` with `message`.
template <class Expected>
std::string raised_for(int32_t status, const char* message) {
  try {
    call_plugin("demo", "quantize_layer 3", [&](qf_error* err) {
      qf::host::fill_error(err, status, message);
      return status;
    });
  } catch (const Expected& e) {
    return e.what();
  }
  FAIL("call_plugin did not raise the expected kind of error");
  return "";
}

}  // namespace

TEST_CASE("host services return the status code of each error kind", "[host][errors]") {
  CHECK(code_of([] { throw qf::Error("bad option"); }) == QF_ERR_INVALID_ARGUMENT);
  CHECK(code_of([] { throw qf::IoError("disk full"); }) == QF_ERR_IO);
  CHECK(code_of([] { throw qf::OutOfMemoryError("too big"); }) == QF_ERR_OUT_OF_MEMORY);
  CHECK(code_of([] { throw qf::Cancelled("stop"); }) == QF_ERR_CANCELLED);
  CHECK(code_of([] { QF_ASSERT(1 == 2, "broken invariant"); }) == QF_ERR_INTERNAL);
  CHECK(code_of([] { throw qf::host::ServiceError(QF_ERR_NOT_FOUND, "no such linear"); }) == QF_ERR_NOT_FOUND);
  CHECK(code_of([] { throw std::bad_alloc(); }) == QF_ERR_OUT_OF_MEMORY);
  CHECK(code_of([] { throw std::runtime_error("DefaultCPUAllocator: not enough memory: you tried to allocate 9"); }) ==
        QF_ERR_OUT_OF_MEMORY);
  CHECK(code_of([] { throw std::runtime_error("some library failure"); }) == QF_ERR_INTERNAL);
}

TEST_CASE("a service error message carries no C++ backtrace", "[host][errors]") {
  qf_error err{};
  serve(&err, [] {
    throw std::runtime_error("Expected all tensors to be on the same device\nException raised from "
                             "compute_types at ../aten/src/ATen/TensorIterator.cpp:484 (most recent call first):\n"
                             "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x57");
  });
  CHECK(std::string(err.message) == "Expected all tensors to be on the same device");
}

TEST_CASE("a plugin's status code comes back as the exception of its kind", "[host][errors]") {
  CHECK(raised_for<qf::Error>(QF_ERR_INVALID_ARGUMENT, "group size 100 does not divide 256") ==
        "plugin 'demo' failed during quantize_layer 3: group size 100 does not divide 256");
  CHECK_THAT(raised_for<qf::IoError>(QF_ERR_IO, "No space left on device"), Catch::Contains("No space left"));
  CHECK_THAT(raised_for<qf::OutOfMemoryError>(QF_ERR_OUT_OF_MEMORY, "out of memory"),
             Catch::Contains("ran out of memory during quantize_layer 3"));
  CHECK(raised_for<qf::Cancelled>(QF_ERR_CANCELLED, "cancelled") == "cancelled during quantize_layer 3");
  CHECK_THAT(raised_for<qf::InternalError>(QF_ERR_INTERNAL, "index out of range"),
             Catch::Contains("internal error (a bug)") && Catch::Contains("index out of range"));
  // A status this host does not know (from a newer plugin) is not taken for success or a user error.
  CHECK_THAT(raised_for<qf::InternalError>(99, "new kind"), Catch::Contains("new kind"));
}

TEST_CASE("every kind is still a qf::Error, so one handler reports them all", "[host][errors]") {
  CHECK(qf::IoError("x").kind() == qf::ErrorKind::io);
  CHECK(qf::Cancelled("x").kind() == qf::ErrorKind::cancelled);
  CHECK(qf::InternalError("x").kind() == qf::ErrorKind::bug);
  CHECK_THROWS_AS(throw qf::OutOfMemoryError("x"), qf::Error);
}
