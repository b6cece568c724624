// The calibration memory plan: the estimate against figures computed by hand, the readers of the
// available memory, the refusal's advice, and LibTorch / plugin allocation failures turned into one
// clear message.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <new>
#include <regex>

#include "common/error.hpp"
#include "pipeline/memory_plan.hpp"

using namespace qf::pipeline;

namespace {

// Qwen2.5-0.5B's shapes with AWQ's defaults (128 x 512 tokens) in bf16; chunk 14 is what
// calibration_chunk gives for them.
CalibrationShape qwen05b_awq() {
  CalibrationShape s;
  s.samples = 128;
  s.seqlen = 512;
  s.hidden = 896;
  s.intermediate = 4864;
  s.heads = 14;
  s.kv_heads = 2;
  s.head_dim = 64;
  s.compute_bytes = 2;
  s.chunk = 14;
  s.use = CalibrationUse::CapturedInputs;
  s.two_hidden_states = true;
  return s;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "no qf::Error";
}

}  // namespace

TEST_CASE("AWQ estimate for Qwen2.5-0.5B shapes, computed by hand", "[memory_plan]") {
  // tokens = 128 x 512 = 65536
  // hidden states  65536 x 896 x 2 B                                  = 117,440,512
  // activations    14 blocks x 2 B x (512 x (6 x 896 + 3 x 4864) + 14 x 512^2) = 14 x 27,787,264 = 389,021,696
  // layer params   896^2 (q) + 2 x 896 x 128 (k, v) + 896^2 (o) + 3 x 896 x 4864 = 14,909,440
  // down_proj input 65536 x 4864 x 4 B + 4 Gram-sized 4864^2 x 4 B     = 1,275,068,416 + 378,535,936
  //   (the host's fp64 sum counts twice, its fp32 piece, the method's copy)
  // method peak = 2 x 117,440,512 + 14,909,440 x (2 + 8) + 389,021,696 + 1,653,604,352 = 2,426,601,472
  // (propagation: 3 x 117,440,512 + 389,021,696 + 14,909,440 x 2 = 771,162,112, lower).
  // The synthetic 0.5B benchmark measured a peak RSS of 2.18-2.47 GiB for this run (with fp32 Gram
  // sums, 2 units), the estimate then 2.08 GiB plus the ~0.2-0.4 GiB held before calibration.
  const MemoryEstimate e = estimate_calibration_memory(qwen05b_awq());
  CHECK(e.total == 2426601472.0);
  CHECK(e.phase == "while the method runs");
  CHECK(e.describe() ==
        "while the method runs: hidden states 2 x 112 MiB, layer weights with fp32 copies 142 MiB, forward activations "
        "371 MiB, captured down_proj input and its Gram matrix buffers 1.54 GiB");
}

TEST_CASE("GPTQ estimate for tiny-llama at 128 x 2048 in fp32: the propagation forwards dominate", "[memory_plan]") {
  CalibrationShape s;
  s.samples = 128;
  s.seqlen = 2048;
  s.hidden = 256;
  s.intermediate = 768;
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 64;
  s.compute_bytes = 4;
  s.chunk = 8;
  s.use = CalibrationUse::InputGrams;
  // hidden states 262144 x 256 x 4 = 268,435,456; activations 8 x 4 x (2048 x 3840 + 4 x 2048^2) = 788,529,152;
  // layer params 786,432. Propagation: 3 x 268,435,456 + 788,529,152 + 786,432 x 4 = 1,596,981,248.
  // Method: 268,435,456 + 786,432 x 12 + 788,529,152 + (7 x 768^2 x 4 + 4 x 256 x 768 x 4 = 19,660,800)
  //         = 1,086,062,592.
  const MemoryEstimate e = estimate_calibration_memory(s);
  CHECK(e.total == 1596981248.0);
  CHECK(e.phase == "during the propagation forwards");
  s.use = CalibrationUse::Unknown;  // the larger of both methods, with two hidden states
  CHECK(estimate_calibration_memory(s).total >= e.total);
  // Monotone in samples and sequence length (the advice's search relies on it).
  s.use = CalibrationUse::InputGrams;
  const double base = estimate_calibration_memory(s).total;
  s.samples = 64;
  CHECK(estimate_calibration_memory(s).total < base);
}

TEST_CASE("available memory readers", "[memory_plan]") {
  CHECK(parse_mem_available("MemTotal:       32768000 kB\nMemFree: 100 kB\nMemAvailable:   23116460 kB\n") ==
        23116460.0 * 1024);
  CHECK_FALSE(parse_mem_available("MemTotal: 1 kB\n"));
  CHECK(parse_cgroup_bytes("1073741824\n") == 1073741824.0);
  CHECK_FALSE(parse_cgroup_bytes("max\n"));
  CHECK_FALSE(parse_cgroup_bytes("9223372036854771712\n"));  // cgroup v1 without a limit
  CHECK_FALSE(parse_cgroup_bytes(""));
  CHECK(parse_memory_size("1536") == 1536.0);
  CHECK(parse_memory_size("512M") == 512.0 * 1024 * 1024);
  CHECK(parse_memory_size("2GiB") == 2.0 * 1024 * 1024 * 1024);
  CHECK(parse_memory_size("1.5T") == 1.5 * 1024 * 1024 * 1024 * 1024);
  CHECK_FALSE(parse_memory_size("lots"));
  CHECK_FALSE(parse_memory_size("12Q"));
  const AvailableMemory now = available_memory();  // this machine: MemAvailable, maybe a cgroup limit
  REQUIRE(now.bytes);
  CHECK(*now.bytes > 0);
}

TEST_CASE("a plan that cannot fit is refused with the figures and the largest settings that fit", "[memory_plan]") {
  const CalibrationShape shape = qwen05b_awq();
  AvailableMemory avail;
  avail.bytes = 1.5 * 1024 * 1024 * 1024;
  avail.source = "QUANTFORGE_AVAILABLE_MEMORY";
  const CalibrationMemoryPlan plan = plan_calibration_memory(shape, avail);
  CHECK_FALSE(plan.fits());
  const std::string msg = plan.refusal();
  INFO(msg);
  CHECK_THAT(msg,
             Catch::StartsWith("the calibration needs about 2.26 GiB at its peak (128 samples x 512 tokens, hidden "
                               "896, intermediate 4864, compute bf16; while the method runs: hidden states 2 x ") &&
                 Catch::Contains("but only 1.50 GiB is available (QUANTFORGE_AVAILABLE_MEMORY): lower --num_samples"));
  std::smatch m;
  REQUIRE(
      std::regex_search(msg, m, std::regex(R"(at most (\d+) fit at --seqlen 512\) or --seqlen \(at most (\d+) fit)")));
  const int64_t samples = std::stoll(m[1]), seqlen = std::stoll(m[2]);
  // The advice is exact: that many fit, one more does not.
  CalibrationShape s = shape;
  s.samples = samples;
  CHECK(plan_calibration_memory(s, avail).fits());
  s.samples = samples + 1;
  CHECK_FALSE(plan_calibration_memory(s, avail).fits());
  CHECK(seqlen > 2);
  CHECK(seqlen < 512);
  // Plenty of memory: fits; unknown memory: never refused.
  avail.bytes = 64.0 * 1024 * 1024 * 1024;
  CHECK(plan_calibration_memory(shape, avail).fits());
  CHECK(plan_calibration_memory(shape, AvailableMemory{}).fits());
}

TEST_CASE("allocation failures become one clear message without a backtrace", "[memory_plan]") {
  AvailableMemory avail;
  avail.bytes = 8.0 * 1024 * 1024 * 1024;
  avail.source = "MemAvailable in /proc/meminfo";
  const CalibrationMemoryPlan plan = plan_calibration_memory(qwen05b_awq(), avail);
  // A real LibTorch allocation failure: 4 PiB cannot be reserved, so nothing is touched.
  const std::string torch_oom =
      message_of([&] { explain_allocation_failures(plan, [] { (void)at::empty({int64_t{1} << 50}, at::kFloat); }); });
  INFO(torch_oom);
  CHECK_THAT(torch_oom,
             Catch::StartsWith("out of memory during calibration (an allocation of 4194304.00 GiB failed): "
                               "the calibration needs about 2.26 GiB at its peak (128 samples x 512 tokens") &&
                 Catch::Contains("and 8.00 GiB was available when it started (MemAvailable in /proc/meminfo): "
                                 "lower --num_samples (64 need about ") &&
                 Catch::EndsWith("), or free memory"));
  CHECK_THAT(torch_oom, !Catch::Contains("Exception raised from") && !Catch::Contains("frame #"));
  CHECK(torch_oom.find('\n') == std::string::npos);
  CHECK_THAT(message_of([&] { explain_allocation_failures(plan, [] { throw std::bad_alloc(); }); }),
             Catch::StartsWith("out of memory during calibration: the calibration needs about 2.26 GiB"));
  // What a method plugin reports through the C ABI: QF_ERR_OUT_OF_MEMORY comes back from
  // host::call_plugin as an OutOfMemoryError, and stays one.
  CHECK_THAT(message_of([&] {
               explain_allocation_failures(
                   plan, [] { throw qf::OutOfMemoryError("plugin 'awq' ran out of memory during quantize_layer 3"); });
             }),
             Catch::StartsWith("out of memory during calibration: the calibration needs"));
  CHECK_THROWS_AS(explain_allocation_failures(plan, [] { throw std::bad_alloc(); }), qf::OutOfMemoryError);
  // The kind decides, not the words: a user error that mentions memory passes through.
  CHECK(message_of([&] {
          explain_allocation_failures(plan, [] { throw qf::Error("--max-memory: out of memory is not a size"); });
        }) == "--max-memory: out of memory is not a size");
  // Anything else passes through unchanged.
  CHECK(message_of([&] { explain_allocation_failures(plan, [] { throw qf::Error("bits must be 2, 4 or 8"); }); }) ==
        "bits must be 2, 4 or 8");
  CHECK_THROWS_AS(explain_allocation_failures(plan,
                                              [] {
                                                (void)at::mm(at::zeros({2, 3}), at::zeros({2, 3}));
                                              }),
                  c10::Error);
}
