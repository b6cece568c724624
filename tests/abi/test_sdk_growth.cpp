// The SDK's side of ABI growth, against hand-made host tables: a plugin built with this SDK must
// work on an older host (smaller structs and tables) and never write past what the host allocated.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "quantforge/plugin.hpp"

namespace {

constexpr unsigned char kCanary = 0xCD;

struct Requirements10 {  // what a host with a smaller requirements struct passes, plus a canary
  uint32_t struct_size;
  bool needs_calibration;
  unsigned char padding[3];  // inside the host's 8 bytes: the plugin may write it
  unsigned char canary[56];
};

struct TinyMethod {
  explicit TinyMethod(qf::sdk::Session&) {}
  qf_method_requirements requirements() {
    qf_method_requirements r{};
    r.needs_calibration = true;
    r.num_samples = 77;
    r.seqlen = 99;
    r.propagate_quantized = true;
    return r;
  }
  void quantize_layer(qf::sdk::Layer&, uint32_t, uint32_t) {}
  void finish() {}
};

// A fake host session: records what the plugin asked for.
std::vector<std::string> g_calls;
int32_t fake_create_output(qf_session*, const char* name, char* path, size_t cap, qf_error*) {
  g_calls.push_back(std::string("create_output ") + name);
  std::snprintf(path, cap, "/staging/%s", name);
  return QF_OK;
}
int32_t fake_create_scratch(qf_session*, const char* name, char* path, size_t cap, qf_error*) {
  g_calls.push_back(std::string("create_scratch ") + name);
  std::snprintf(path, cap, "/scratch/%s", name);
  return QF_OK;
}
void fake_release(qf_layer*, const char* name) { g_calls.push_back(std::string("release ") + name); }
// A 1.4 host's answer: this rank has blocks 5..7 of 12.
int32_t fake_shape(qf_layer*, qf_calibration_shape* out, qf_error*) {
  qf_calibration_shape s{sizeof(qf_calibration_shape), 3, 96, 288, 5, 12, 1, 4};
  qf::abi::copy_out(out, s);
  return QF_OK;
}
// A 1.2 host's: its struct ends at `tokens`, so it copies no more than that.
int32_t fake_shape_1_2(qf_layer*, qf_calibration_shape* out, qf_error*) {
  qf_calibration_shape s{QF_SIZE_CALIBRATION_SHAPE_1_2, 3, 96, 288, 99, 99, 9, 9};
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t), reinterpret_cast<const char*>(&s) + sizeof(uint32_t),
              QF_SIZE_CALIBRATION_SHAPE_1_2 - sizeof(uint32_t));
  return QF_OK;
}
int32_t fake_all_reduce(qf_layer*, DLTensor* t, qf_error*) {
  static_cast<double*>(t->data)[0] *= 2;  // as if a second rank held the same value
  g_calls.push_back("all_reduce_sum");
  return QF_OK;
}

}  // namespace

TEST_CASE("copy_out copies min(caller size, callee size) and keeps the caller's struct_size", "[abi][sdk]") {
  struct Big {
    uint32_t struct_size;
    int32_t a;
    int64_t b;
    int64_t c;
  };
  const Big filled{sizeof(Big), 1, 2, 3};
  alignas(8) unsigned char buffer[64];
  std::memset(buffer, kCanary, sizeof buffer);
  const uint32_t small = 16;  // an older caller: struct_size, a, b
  std::memcpy(buffer, &small, sizeof small);
  qf::abi::copy_out(reinterpret_cast<Big*>(buffer), filled);
  Big seen{};
  std::memcpy(&seen, buffer, 16);
  CHECK(seen.struct_size == 16);
  CHECK(seen.a == 1);
  CHECK(seen.b == 2);
  for (size_t i = 16; i < sizeof buffer; ++i) CHECK(buffer[i] == kCanary);

  // A newer, larger caller struct: everything we know is written, the rest untouched.
  alignas(8) unsigned char large[64];
  std::memset(large, kCanary, sizeof large);
  const uint32_t big_size = 64;
  std::memcpy(large, &big_size, sizeof big_size);
  qf::abi::copy_out(reinterpret_cast<Big*>(large), filled);
  std::memcpy(&seen, large, sizeof seen);
  CHECK(seen.struct_size == 64);
  CHECK(seen.c == 3);
  for (size_t i = sizeof(Big); i < sizeof large; ++i) CHECK(large[i] == kCanary);
}

TEST_CASE("the method adapter fills an older host's smaller requirements struct only", "[abi][sdk]") {
  qf_session_api api{};
  api.struct_size = QF_SIZE_SESSION_API_1_0;
  void* instance = nullptr;
  qf_error err{};
  using Adapter = qf::sdk::MethodAdapter<TinyMethod>;
  REQUIRE(Adapter::create(&api, nullptr, &instance, &err) == QF_OK);
  Requirements10 req{};
  std::memset(&req, kCanary, sizeof req);
  req.struct_size = 8;  // through needs_calibration (with padding)
  CHECK(Adapter::requirements(instance, reinterpret_cast<qf_method_requirements*>(&req), &err) == QF_OK);
  CHECK(req.struct_size == 8);
  CHECK(req.needs_calibration);
  for (unsigned char c : req.canary) CHECK(c == kCanary);

  qf_method_requirements full{};
  full.struct_size = sizeof(full);
  CHECK(Adapter::requirements(instance, &full, &err) == QF_OK);
  CHECK(full.num_samples == 77);
  CHECK(full.seqlen == 99);
  Adapter::destroy(instance);
}

TEST_CASE("get_option from an option array fills a smaller or larger host struct correctly", "[abi][sdk]") {
  static const qf_option_desc options[] = {{sizeof(qf_option_desc), "bits", QF_OPTION_INT, "4", "bits"}};
  alignas(8) unsigned char buffer[64];
  std::memset(buffer, kCanary, sizeof buffer);
  const uint32_t small = 24;  // struct_size, name, type
  std::memcpy(buffer, &small, sizeof small);
  qf_error err{};
  CHECK(qf::sdk::option_from_array(options, 0, reinterpret_cast<qf_option_desc*>(buffer), &err) == QF_OK);
  const char* name = nullptr;
  std::memcpy(&name, buffer + offsetof(qf_option_desc, name), sizeof name);
  CHECK(std::string(name) == "bits");
  for (size_t i = 24; i < sizeof buffer; ++i) CHECK(buffer[i] == kCanary);
  qf_option_desc out{};
  out.struct_size = sizeof(out);
  CHECK(qf::sdk::option_from_array(options, 1, &out, &err) == QF_ERR_NOT_FOUND);
  CHECK(std::string(err.message) == "option index 1 out of range");
}

TEST_CASE("scratch files: create_scratch on 1.2 hosts, the .scratch/ prefix on older ones", "[abi][sdk]") {
  g_calls.clear();
  qf_session_api api{};
  api.struct_size = QF_SIZE_SESSION_API_1_0;
  api.create_output = &fake_create_output;
  api.create_scratch = &fake_create_scratch;  // beyond the 1.0 table: must not be used
  const qf::sdk::Session old_host(&api, nullptr);
  CHECK(old_host.create_scratch("spool") == "/staging/.scratch/spool");
  api.struct_size = sizeof(qf_session_api);
  const qf::sdk::Session new_host(&api, nullptr);
  CHECK(new_host.create_scratch("spool") == "/scratch/spool");
  CHECK(g_calls == std::vector<std::string>{"create_output .scratch/spool", "create_scratch spool"});
}

TEST_CASE("calibration services added after 1.0 are used only when the host's table has them", "[abi][sdk]") {
  g_calls.clear();
  qf_calibration_api api{};
  api.release_captured = &fake_release;
  api.calibration_shape = &fake_shape;
  api.all_reduce_sum = &fake_all_reduce;
  api.struct_size = QF_SIZE_CALIBRATION_API_1_0;
  const qf::sdk::Calibration v10(&api, nullptr);
  v10.release_captured("mlp.down_proj");
  CHECK_FALSE(v10.shape().has_value());
  api.struct_size = QF_SIZE_CALIBRATION_API_1_1;
  const qf::sdk::Calibration v11(&api, nullptr);
  v11.release_captured("mlp.down_proj");
  CHECK_FALSE(v11.shape().has_value());
  api.struct_size = sizeof(qf_calibration_api);
  const qf::sdk::Calibration v12(&api, nullptr);
  const auto shape = v12.shape();
  REQUIRE(shape.has_value());
  CHECK(shape->blocks == 3);
  CHECK(shape->block_length == 96);
  CHECK(shape->tokens == 288);
  CHECK(shape->first_block == 5);
  CHECK(shape->all_blocks == 12);
  CHECK(shape->rank == 1);
  CHECK(shape->ranks == 4);
  CHECK(g_calls == std::vector<std::string>{"release mlp.down_proj"});

  // all_reduce_sum (1.4): a 1.2 host never splits the blocks, so the SDK says so and sums nothing.
  double value = 1.5;
  int64_t one = 1;
  DLTensor t{};
  t.data = &value;
  t.ndim = 1;
  t.shape = &one;
  t.dtype = DLDataType{kDLFloat, 64, 1};
  t.device = DLDevice{kDLCPU, 0};
  api.calibration_shape = &fake_shape_1_2;
  api.struct_size = QF_SIZE_CALIBRATION_API_1_2;
  const qf::sdk::Calibration old_host(&api, nullptr);
  const auto old_shape = old_host.shape();
  REQUIRE(old_shape.has_value());
  CHECK(old_shape->first_block == 0);
  CHECK(old_shape->all_blocks == 3);
  CHECK(old_shape->rank == 0);
  CHECK(old_shape->ranks == 1);
  old_host.all_reduce_sum(t);
  CHECK(value == 1.5);
  api.struct_size = sizeof(qf_calibration_api);
  const qf::sdk::Calibration new_host(&api, nullptr);
  new_host.all_reduce_sum(t);
  CHECK(value == 3.0);
  CHECK(g_calls.back() == "all_reduce_sum");
}

TEST_CASE("the SDK guard keeps error kinds and never passes a LibTorch backtrace on", "[abi][sdk]") {
  qf_error err{};
  CHECK(qf::sdk::guard(&err, [] { QF_SDK_CHECK(1 + 1 == 3, "option bits must be 4, got 3"); }) ==
        QF_ERR_INVALID_ARGUMENT);
  CHECK(std::string(err.message) == "option bits must be 4, got 3");
  CHECK(qf::sdk::guard(&err, [] { QF_SDK_ASSERT(2 + 2 == 5); }) == QF_ERR_INTERNAL);
  CHECK_THAT(err.message, Catch::StartsWith("internal error (a bug in this plugin): 2 + 2 == 5 failed at"));
  CHECK(qf::sdk::guard(&err, [] { throw std::bad_alloc(); }) == QF_ERR_OUT_OF_MEMORY);
  CHECK(qf::sdk::guard(&err, [] { throw qf::sdk::PluginError(QF_ERR_IO, "disk full"); }) == QF_ERR_IO);
  CHECK(qf::sdk::guard(&err, [] { throw qf::sdk::PluginError(QF_ERR_CANCELLED, "cancelled"); }) == QF_ERR_CANCELLED);
  // The shape of a LibTorch error message: text, then the C++ frames.
  CHECK(qf::sdk::guard(&err, [] {
          throw std::runtime_error("shape '[2, 3]' is invalid for input of size 5\nException raised from "
                                   "infer_size_impl at ../aten/src/ATen/InferSize.h:92 (most recent call first):\n"
                                   "frame #0: c10::Error::Error(...) + 0x55");
        }) == QF_ERR_INTERNAL);
  CHECK(std::string(err.message) == "shape '[2, 3]' is invalid for input of size 5");
}
