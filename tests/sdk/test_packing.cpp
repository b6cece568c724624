// Packing goldens from the worked examples of docs/awq.md#gemm-packing and docs/gptq.md#packing-v1-and-v2,
// and round trips.
#include <catch2/catch.hpp>
#include <random>

#include "quantforge/packing.hpp"
#include "quantforge/plugin.hpp"
#include "quantforge/quantizer.hpp"

using namespace qf::pack;

TEST_CASE("AWQ GEMM packs columns in the [0,2,4,6,1,3,5,7] order", "[packing][awq]") {
  // One input row, output columns 0..7 hold q = 1..8 -> 0x86427531.
  std::vector<int32_t> codes(8);
  for (int o = 0; o < 8; ++o) codes[o] = o + 1;  // [out=8, in=1]
  auto packed = awq_pack_qweight(codes, 8, 1);
  REQUIRE(packed.size() == 1);
  CHECK(static_cast<uint32_t>(packed[0]) == 0x86427531u);
  CHECK(packed[0] == -2042464975);
  // The other worked values (docs/awq.md#gemm-packing).
  for (int o = 0; o < 8; ++o) codes[o] = o;
  CHECK(static_cast<uint32_t>(awq_pack_qweight(codes, 8, 1)[0]) == 0x75316420u);
  for (int o = 0; o < 8; ++o) codes[o] = 15 - o;
  CHECK(static_cast<uint32_t>(awq_pack_qweight(codes, 8, 1)[0]) == 0x8ACE9BDFu);
  std::fill(codes.begin(), codes.end(), 8);
  CHECK(static_cast<uint32_t>(awq_pack_qweight(codes, 8, 1)[0]) == 0x88888888u);
}

TEST_CASE("GPTQ packs input channels little-end first", "[packing][gptq]") {
  // 4-bit, one output column, input channels 0..7 = [8,3,15,0,7,12,1,9] -> 0x91C70F38.
  std::vector<int32_t> codes = {8, 3, 15, 0, 7, 12, 1, 9};  // [out=1, in=8]
  auto packed = gptq_pack_qweight(codes, 1, 8, 4);
  REQUIRE(packed.size() == 1);
  CHECK(static_cast<uint32_t>(packed[0]) == 0x91C70F38u);
  CHECK(packed[0] == -1849225416);
  // 8-bit, channels 0..3 = [128,3,255,0] -> 16712576.
  std::vector<int32_t> codes8 = {128, 3, 255, 0};
  CHECK(gptq_pack_qweight(codes8, 1, 4, 8)[0] == 16712576);
}

TEST_CASE("symmetric GPTQ zero words match the v1 and v2 constants", "[packing][gptq]") {
  const std::vector<int32_t> z4(8, 8), z8(4, 128), z2(16, 2);
  CHECK(gptq_pack_qzeros(z4, 8, 1, 4, true)[0] == 0x77777777);
  CHECK(gptq_pack_qzeros(z8, 4, 1, 8, true)[0] == 0x7F7F7F7F);
  CHECK(static_cast<uint32_t>(gptq_pack_qzeros(z4, 8, 1, 4, false)[0]) == 0x88888888u);
  CHECK(static_cast<uint32_t>(gptq_pack_qzeros(z8, 4, 1, 8, false)[0]) == 0x80808080u);
  CHECK(gptq_pack_qzeros(z2, 16, 1, 2, true)[0] == 0x55555555);
  // A zero point of 0 cannot be stored in v1 (it would borrow into the next field).
  CHECK_THROWS_WITH(gptq_pack_qzeros(std::vector<int32_t>(8, 0), 8, 1, 4, true), Catch::Contains("gptq_v2"));
}

TEST_CASE("unpack(pack(x)) == x for random codes", "[packing]") {
  std::mt19937 rng(7);
  for (int bits : {2, 4, 8}) {
    const int64_t out = 64, in = 128, groups = 4;
    std::uniform_int_distribution<int32_t> code(0, (1 << bits) - 1), zero(1, (1 << bits) - 1);
    std::vector<int32_t> codes(out * in), zeros(out * groups);
    for (auto& c : codes) c = code(rng);
    for (auto& z : zeros) z = zero(rng);
    CHECK(gptq_unpack_qweight(gptq_pack_qweight(codes, out, in, bits), out, in, bits) == codes);
    CHECK(gptq_unpack_qzeros(gptq_pack_qzeros(zeros, out, groups, bits, true), out, groups, bits, true) == zeros);
    CHECK(gptq_unpack_qzeros(gptq_pack_qzeros(zeros, out, groups, bits, false), out, groups, bits, false) == zeros);
    if (bits == 4) {
      CHECK(awq_unpack_qweight(awq_pack_qweight(codes, out, in), out, in) == codes);
      CHECK(awq_unpack_qzeros(awq_pack_qzeros(zeros, out, groups), out, groups) == zeros);
    }
  }
}

TEST_CASE("shapes a layout cannot hold are clear errors", "[packing]") {
  CHECK_THROWS_WITH(gptq_pack_qweight(std::vector<int32_t>(12), 1, 12, 4), Catch::Contains("divisible by 8"));
  CHECK_THROWS_WITH(awq_pack_qweight(std::vector<int32_t>(12), 12, 1), Catch::Contains("divisible by 8"));
  CHECK_THROWS_WITH(gptq_pack_qweight(std::vector<int32_t>(8), 1, 8, 3), Catch::Contains("bits 2, 4 and 8"));
}

TEST_CASE("AWQ quantizer reproduces the worked example (min -0.30, max 0.45, w 0.12)", "[quantizer][awq]") {
  // Group min -0.30, max 0.45 -> s = 0.05, z = 6; w = 0.12 -> q = 8 -> 0.10 (docs/awq.md#pseudo-quantization).
  const float group[] = {-0.30f, 0.45f, 0.12f};
  const auto p = qf::quant::awq_find_params(group, 3, 4);
  CHECK(p.scale == Approx(0.05f));
  CHECK(p.zero == 6);
  const int32_t q = qf::quant::quantize_code(0.12f, p, 4);
  CHECK(q == 8);
  CHECK(qf::quant::dequantize_code(q, p) == Approx(0.10f));
}

TEST_CASE("GPTQ quantizer: range includes zero, symmetric zero in the middle, quirk Q4", "[quantizer][gptq]") {
  const float all_positive[] = {0.2f, 0.5f};
  // sym 4-bit on a non-negative group keeps xmin = 0: scale = 0.5/15 and 0.5 clips at code 15.
  auto p = qf::quant::gptq_find_params(all_positive, 2, 4, true);
  CHECK(p.scale == Approx(0.5f / 15));
  CHECK(p.zero == 8);
  CHECK(qf::quant::quantize_code(0.5f, p, 4) == 15);
  CHECK(qf::quant::dequantize_code(15, p) == Approx(7 * 0.5f / 15));
  const float zeros[] = {0.0f, 0.0f};
  p = qf::quant::gptq_find_params(zeros, 2, 8, false);
  CHECK(p.scale == Approx(2.0f / 255));
  // In fp32, 2/255 rounds up, so 1 / scale = 127.4999987 and rounds to 127 (as torch does in fp32).
  CHECK(p.zero == 127);
}
