// quantforge/half.hpp against LibTorch's own float <-> half conversion (c10::Half), the reference
// every fp16 tensor we compare with was made by: all 65536 half values, every midpoint between
// neighbours, and millions of random floats.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quantforge/half.hpp"

namespace {

using qf::sdk::float_to_half_bits;
using qf::sdk::half_bits_to_float;

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

bool is_nan_half(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0; }

// LibTorch's half bits for each float.
std::vector<uint16_t> torch_half_bits(const std::vector<float>& values) {
  const at::Tensor f = at::from_blob(const_cast<float*>(values.data()), {static_cast<int64_t>(values.size())}, at::kFloat);
  const at::Tensor h = f.to(at::kHalf).contiguous();
  std::vector<uint16_t> out(values.size());
  std::memcpy(out.data(), h.data_ptr(), out.size() * 2);
  return out;
}

// LibTorch's float for each half bit pattern.
std::vector<float> torch_half_values(const std::vector<uint16_t>& bits) {
  const at::Tensor h = at::from_blob(const_cast<uint16_t*>(bits.data()), {static_cast<int64_t>(bits.size())}, at::kHalf);
  const at::Tensor f = h.to(at::kFloat).contiguous();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

// Compares float_to_half_bits with LibTorch on `values`; NaNs need only stay NaN.
int64_t count_mismatches(const std::vector<float>& values) {
  const std::vector<uint16_t> want = torch_half_bits(values);
  int64_t bad = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const uint16_t got = float_to_half_bits(values[i]);
    const bool same = is_nan_half(want[i]) ? is_nan_half(got) && (got & 0x8000u) == (want[i] & 0x8000u) : got == want[i];
    if (!same && bad++ < 5) FAIL_CHECK("float bits 0x" << std::hex << bits_of(values[i]) << ": got 0x" << got << ", LibTorch 0x" << want[i]);
  }
  return bad;
}

}  // namespace

TEST_CASE("every half value converts to LibTorch's float and back to itself", "[half]") {
  std::vector<uint16_t> all(65536);
  for (uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<uint16_t>(h);
  const std::vector<float> want = torch_half_values(all);
  int64_t bad = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_bits_to_float(all[h]);
    if (is_nan_half(all[h])) {
      bad += !std::isnan(f) || !is_nan_half(float_to_half_bits(f));
      continue;
    }
    bad += bits_of(f) != bits_of(want[h]);           // the same float, signed zeros included
    bad += float_to_half_bits(f) != all[h];          // and back, exactly
    bad += bits_of(qf::sdk::round_to_half(f)) != bits_of(f);  // a half value is its own rounding
  }
  CHECK(bad == 0);
}

TEST_CASE("midpoints between neighbouring halves tie to the even one", "[half]") {
  std::vector<float> probes;
  for (uint32_t h = 0; h < 0x7C00u; ++h) {  // finite, non-negative halves and their upper neighbour
    const double lo = half_bits_to_float(static_cast<uint16_t>(h));
    const double hi = h + 1 == 0x7C00u ? 65536.0 : half_bits_to_float(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);  // 12 significant bits: exact in float
    REQUIRE(static_cast<double>(mid) == (lo + hi) / 2);
    const uint16_t even = (h & 1u) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    CHECK(float_to_half_bits(mid) == even);
    CHECK(float_to_half_bits(-mid) == (even | 0x8000u));
    // One float ulp either side of the midpoint goes to the nearer neighbour.
    CHECK(float_to_half_bits(std::nextafter(mid, 0.0f)) == h);
    if (h + 1 < 0x7C00u) CHECK(float_to_half_bits(std::nextafter(mid, INFINITY)) == h + 1);
    probes.insert(probes.end(), {mid, -mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)});
  }
  CHECK(count_mismatches(probes) == 0);
}

TEST_CASE("random floats round as LibTorch rounds them", "[half]") {
  std::mt19937 rng(1234);
  std::vector<float> values;
  // Any bit pattern (mostly far outside the half range: zeros, infinities, NaNs) ...
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < (1 << 22); ++i) values.push_back(from_bits(any(rng)));
  // ... and floats whose exponent is in or near the half range (subnormals, overflow edge).
  std::uniform_int_distribution<uint32_t> exponent(100, 145), mantissa(0, 0x7FFFFFu), sign(0, 1);
  for (int i = 0; i < (1 << 22); ++i) values.push_back(from_bits(sign(rng) << 31 | exponent(rng) << 23 | mantissa(rng)));
  values.insert(values.end(), {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 65504.0f, 65519.996f, 65520.0f, 1e-8f,
                               2.9802322e-08f, 2.9802326e-08f, 6.1035156e-05f, 6.1035153e-05f});
  CHECK(count_mismatches(values) == 0);
}

TEST_CASE("round_to_half and round_scale_to_half", "[half]") {
  CHECK(float_to_half_bits(1.0f) == 0x3C00);
  CHECK(float_to_half_bits(0.1f) == 0x2E66);
  CHECK(qf::sdk::round_to_half(0.1f) == 0.0999755859375f);
  CHECK(qf::sdk::round_to_half(65519.0f) == qf::sdk::kHalfMax);
  CHECK(std::isinf(qf::sdk::round_to_half(65520.0f)));
  CHECK(std::isnan(qf::sdk::round_to_half(NAN)));
  CHECK(std::signbit(qf::sdk::round_to_half(-0.0f)));
  CHECK(qf::sdk::round_to_half(2.9802322e-08f) == 0.0f);  // exactly half the smallest subnormal: ties to 0
  // A scale is never 0: it would divide by zero when quantizing.
  CHECK(qf::sdk::round_scale_to_half(0.0f) == qf::sdk::kHalfMinSubnormal);
  CHECK(qf::sdk::round_scale_to_half(-0.0f) == qf::sdk::kHalfMinSubnormal);
  CHECK(qf::sdk::round_scale_to_half(1e-9f) == qf::sdk::kHalfMinSubnormal);
  CHECK(qf::sdk::round_scale_to_half(-1e-9f) == -qf::sdk::kHalfMinSubnormal);
  CHECK(qf::sdk::round_scale_to_half(0.1f) == 0.0999755859375f);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-70000.0f, 70000.0f);
  std::vector<float> values(1 << 16);
  for (float& v : values) v = u(rng) * std::pow(2.0f, -static_cast<float>(rng() % 40));
  const std::vector<uint16_t> want = torch_half_bits(values);
  int64_t bad = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const float ref = half_bits_to_float(want[i]);
    bad += bits_of(qf::sdk::round_to_half(values[i])) != bits_of(ref);
    if (ref != 0.0f) bad += qf::sdk::round_scale_to_half(values[i]) != ref;
  }
  CHECK(bad == 0);
}

TEST_CASE("bfloat16 rounding equals LibTorch's for every half value, bf16 midpoints and random floats",
          "[half]") {
  std::vector<float> values;
  for (uint32_t h = 0; h < 0x10000u; ++h)
    if (!is_nan_half(static_cast<uint16_t>(h))) values.push_back(half_bits_to_float(static_cast<uint16_t>(h)));
  std::mt19937 rng(99);
  for (int k = 0; k < 200000; ++k) {
    const uint32_t b = static_cast<uint32_t>(rng()) & 0xFFFF0000u;
    const float f = from_bits(b | 0x8000u);  // exactly between two bfloat16 neighbours
    if (std::isfinite(f)) values.push_back(f);
    const float r = from_bits(static_cast<uint32_t>(rng()));
    if (std::isfinite(r)) values.push_back(r);
  }
  const at::Tensor t = at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kFloat)
                           .to(at::kBFloat16)
                           .contiguous();
  std::vector<uint16_t> expected(values.size());
  std::memcpy(expected.data(), t.data_ptr(), expected.size() * 2);
  int64_t mismatches = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    mismatches += qf::sdk::float_to_bf16_bits(values[i]) != expected[i];
    mismatches += qf::sdk::bf16_bits_to_float(expected[i]) != at::BFloat16(expected[i], at::BFloat16::from_bits());
  }
  CHECK(mismatches == 0);
  const uint16_t nan = qf::sdk::float_to_bf16_bits(std::nanf(""));
  CHECK((nan & 0x7F80u) == 0x7F80u);
  CHECK((nan & 0x7Fu) != 0);
}
