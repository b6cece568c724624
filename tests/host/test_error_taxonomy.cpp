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
std::string raised_for(int32_t status, const char* message, qf::ErrorKind kind) {
  try {
    call_plugin("demo", "quantize_layer 3", [&](qf_error* err) {
      qf::host::fill_error(err, status, message);
      return status;
    });
  } catch (const Expected& e) {
    CHECK(e.kind() == kind);
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
  using K = qf::ErrorKind;
  CHECK(raised_for<qf::Error>(QF_ERR_INVALID_ARGUMENT, "group size 100 does not divide 256", K::user) ==
        "plugin 'demo' failed during quantize_layer 3: group size 100 does not divide 256");
  CHECK_THAT(raised_for<qf::Error>(QF_ERR_NOT_FOUND, "no linear named q", K::user), Catch::Contains("no linear named q"));
  CHECK_THAT(raised_for<qf::Error>(QF_ERR_UNSUPPORTED, "needs qf.calibration/1", K::user),
             Catch::Contains("needs qf.calibration/1"));
  CHECK_THAT(raised_for<qf::IoError>(QF_ERR_IO, "No space left on device", K::io), Catch::Contains("No space left"));
  CHECK_THAT(raised_for<qf::OutOfMemoryError>(QF_ERR_OUT_OF_MEMORY, "out of memory", K::out_of_memory),
             Catch::Contains("ran out of memory during quantize_layer 3"));
  CHECK(raised_for<qf::Cancelled>(QF_ERR_CANCELLED, "cancelled", K::cancelled) == "cancelled during quantize_layer 3");
  CHECK_THAT(raised_for<qf::InternalError>(QF_ERR_INTERNAL, "index out of range", K::bug),
             Catch::Contains("internal error (a bug)") && Catch::Contains("index out of range"));
  // A status this host does not know (from a newer plugin) is not taken for success or a user error.
  CHECK_THAT(raised_for<qf::InternalError>(99, "new kind", K::bug), Catch::Contains("new kind"));
}

TEST_CASE("adding context to an error keeps its kind", "[host][errors]") {
  const auto kind_after = [](const qf::Error& e) {
    try {
      qf::rethrow_with_context(e, "reading calib.jsonl: ");
    } catch (const qf::Error& again) {
      CHECK(std::string(again.what()) == std::string("reading calib.jsonl: ") + e.what());
      return again.kind();
    }
    return qf::ErrorKind::user;
  };
  CHECK(kind_after(qf::IoError("Input/output error")) == qf::ErrorKind::io);
  CHECK(kind_after(qf::OutOfMemoryError("too big")) == qf::ErrorKind::out_of_memory);
  CHECK(kind_after(qf::Cancelled("stop")) == qf::ErrorKind::cancelled);
  CHECK(kind_after(qf::InternalError("bug")) == qf::ErrorKind::bug);
  CHECK(kind_after(qf::Error("bad key")) == qf::ErrorKind::user);
  CHECK_THROWS_AS(qf::rethrow_with_context(qf::IoError("x"), "c: "), qf::IoError);
}

TEST_CASE("the plugin-side guard keeps kinds too, and reports without allocating", "[host][errors]") {
  qf_error err{};
  CHECK(qf::sdk::guard(&err, [] { QF_SDK_CHECK(false, "bits must be 4"); }) == QF_ERR_INVALID_ARGUMENT);
  CHECK(std::string(err.message) == "bits must be 4");
  CHECK(qf::sdk::guard(&err, [] { QF_SDK_ASSERT(1 == 2); }) == QF_ERR_INTERNAL);
  CHECK_THAT(std::string(err.message), Catch::Contains("a bug in this plugin") && Catch::Contains("1 == 2"));
  // LibTorch's allocator failure is not std::bad_alloc but is out of memory all the same.
  CHECK(qf::sdk::guard(&err, [] { throw std::runtime_error("DefaultCPUAllocator: not enough memory"); }) ==
        QF_ERR_OUT_OF_MEMORY);
  CHECK(qf::sdk::guard(&err, [] { throw std::runtime_error("shape mismatch\nException raised from f at x.cpp:1"); }) ==
        QF_ERR_INTERNAL);
  CHECK(std::string(err.message) == "shape mismatch");
  // A message longer than the slot is cut, NUL-terminated.
  CHECK(qf::sdk::guard(&err, [] { throw qf::sdk::PluginError(QF_ERR_IO, std::string(5000, 'x')); }) == QF_ERR_IO);
  CHECK(std::string(err.message) == std::string(QF_ERROR_MESSAGE_CAPACITY - 1, 'x'));
}

TEST_CASE("an out-struct smaller than its first version is refused", "[host][errors][abi]") {
  qf_linear_info info{};
  info.struct_size = 16;
  qf_error err{};
  CHECK(serve(&err, [&] { qf::host::require_out_struct(&info, QF_SIZE_LINEAR_INFO_1_0, "qf_linear_info"); }) ==
        QF_ERR_INVALID_ARGUMENT);
  CHECK_THAT(std::string(err.message), Catch::Contains("qf_linear_info.struct_size is 16") &&
                                           Catch::Contains("set it to sizeof(qf_linear_info)"));
  info.struct_size = QF_SIZE_LINEAR_INFO_1_0;
  CHECK(serve(&err, [&] { qf::host::require_out_struct(&info, QF_SIZE_LINEAR_INFO_1_0, "qf_linear_info"); }) == QF_OK);
}

TEST_CASE("every kind is still a qf::Error, so one handler reports them all", "[host][errors]") {
  CHECK(qf::IoError("x").kind() == qf::ErrorKind::io);
  CHECK(qf::Cancelled("x").kind() == qf::ErrorKind::cancelled);
  CHECK(qf::InternalError("x").kind() == qf::ErrorKind::bug);
  CHECK_THROWS_AS(throw qf::OutOfMemoryError("x"), qf::Error);
}
