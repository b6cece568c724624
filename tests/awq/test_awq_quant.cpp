// AWQ pseudo-quantization (docs/awq.md#pseudo-quantization) and GEMM packing (docs/awq.md#gemm-packing) goldens.
#include "catch_torch_awq.hpp"

#include <cstring>

#include "awq_core.hpp"
#include "quantforge/packing.hpp"

using namespace qf::awq;

namespace {
float half_round(float x) { return at::scalar_tensor(x).to(at::kHalf).to(at::kFloat).item<float>(); }
at::Tensor group_of(std::initializer_list<float> head, float fill) {
  at::Tensor w = at::full({1, 128}, fill, at::kFloat);
  int64_t i = 0;
  for (float v : head) w[0][i++] = v;
  return w;
}
}  // namespace

TEST_CASE("pseudo-quantization reproduces the worked example (min -0.30, max 0.45, w 0.12)", "[awq][quant]") {
  // min -0.30, max 0.45 -> s = 0.05, z = 6; w = 0.12 -> q = 8 -> 0.10
  const at::Tensor w = group_of({-0.30f, 0.45f, 0.12f}, 0.0f);
  const QuantizedWeight q = pseudo_quantize_fp16(w, QuantConfig{}, "t.weight");
  const float s = q.scales[0][0].item<float>();
  CHECK(s == half_round(half_round(half_round(0.45f) - half_round(-0.30f)) / 15.0f));
  CHECK(s == Approx(0.05f).margin(1e-4));
  CHECK(q.zeros[0][0].item<int32_t>() == 6);
  CHECK(q.codes[0][2].item<int32_t>() == 8);
  CHECK(q.codes[0][3].item<int32_t>() == 6);  // 0 maps to the zero point
  CHECK(q.w_dq[0][2].item<float>() == Approx(0.10f).margin(1e-3));
  CHECK(q.w_dq[0][3].item<float>() == 0.0f);
  // The fp32 search quantizer agrees up to fp16 rounding.
  const at::Tensor f = pseudo_quantize_fp32(w, QuantConfig{});
  CHECK(f[0][2].item<float>() == Approx(0.10f).margin(1e-3));
}

TEST_CASE("pseudo-quantization: constant, all-positive and all-negative groups", "[awq][quant]") {
  SECTION("constant group: scale fp16(fp16(1e-5)/15), zero 0") {
    const QuantizedWeight q = pseudo_quantize_fp16(at::full({1, 128}, 0.5f), QuantConfig{}, "c.weight");
    const float s = half_round(half_round(1e-5f) / 15.0f);
    CHECK(q.scales[0][0].item<float>() == s);
    CHECK(s < 6.2e-5f);  // subnormal in fp16
    CHECK(q.zeros[0][0].item<int32_t>() == 0);
    CHECK(q.codes.eq(15).all().item<bool>());  // 0.5/s overflows fp16 -> clamped to 15 (AutoAWQ behaviour)
    const QuantizedWeight z = pseudo_quantize_fp16(at::zeros({1, 128}), QuantConfig{}, "c.weight");
    CHECK(z.w_dq.eq(0).all().item<bool>());
  }
  SECTION("all positive: zero clamps to 0, range not covered below") {
    const QuantizedWeight q = pseudo_quantize_fp16(group_of({0.1f, 0.5f}, 0.3f), QuantConfig{}, "p.weight");
    CHECK(q.zeros[0][0].item<int32_t>() == 0);
    CHECK(q.codes[0][0].item<int32_t>() == 4);   // round(0.1 / (0.4/15)) = round(3.75)
    CHECK(q.codes[0][1].item<int32_t>() == 15);  // 18.75 clamps
  }
  SECTION("all negative: zero clamps to 15") {
    const QuantizedWeight q = pseudo_quantize_fp16(group_of({-0.1f, -0.5f}, -0.3f), QuantConfig{}, "n.weight");
    CHECK(q.zeros[0][0].item<int32_t>() == 15);
    CHECK(q.codes[0][0].item<int32_t>() == 11);  // -4 + 15
    CHECK(q.codes[0][1].item<int32_t>() == 0);   // -19 + 15 clamps
  }
}

TEST_CASE("in_features not divisible by the group is an error naming the tensor", "[awq][quant]") {
  try {
    pseudo_quantize_fp16(at::zeros({8, 100}), QuantConfig{}, "model.layers.3.mlp.down_proj.weight");
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("model.layers.3.mlp.down_proj.weight") != std::string::npos);
  }
}

TEST_CASE("GEMM packing goldens through the emit path", "[awq][pack]") {
  // Row o, input k: value ((k + o) % 16 - (o + 1)) / 16 -> scale 1/16, zero o+1, code (k+o)%16.
  at::Tensor w = at::empty({8, 256}, at::kFloat);
  for (int64_t o = 0; o < 8; ++o)
    for (int64_t k = 0; k < 256; ++k) w[o][k] = static_cast<float>((k + o) % 16 - (o + 1)) / 16.0f;
  const QuantizedWeight q = pseudo_quantize_fp16(w, QuantConfig{}, "g.weight");
  CHECK(q.w_dq.equal(w));
  const GemmTensors g = pack_gemm(q, "g.weight");
  REQUIRE(g.qweight.size() == 256);  // [in=256, out/8=1]
  REQUIRE(g.qzeros.size() == 2);     // [2 groups, 1]
  REQUIRE(g.scales.size() == 16);    // [2, 8]
  CHECK(static_cast<uint32_t>(g.qweight[1]) == 0x86427531u);  // k = 1: codes 1..8
  CHECK(g.qweight[1] == -2042464975);
  CHECK(static_cast<uint32_t>(g.qweight[0]) == 0x75316420u);  // k = 0: codes 0..7
  CHECK(static_cast<uint32_t>(g.qzeros[0]) == 0x86427531u);   // zeros 1..8
  CHECK(static_cast<uint32_t>(g.qzeros[1]) == 0x86427531u);
  for (uint16_t s : g.scales) CHECK(s == 0x2C00);  // fp16 0.0625
  // Bytes on disk, little endian: 31 75 42 86.
  unsigned char bytes[4];
  std::memcpy(bytes, &g.qweight[1], 4);
  CHECK((bytes[0] == 0x31 && bytes[1] == 0x75 && bytes[2] == 0x42 && bytes[3] == 0x86));
  // What loaders compute from the file equals the in-memory fake-quantized weights.
  const auto codes = qf::pack::awq_unpack_qweight(g.qweight, 8, 256);
  const auto zeros = qf::pack::awq_unpack_qzeros(g.qzeros, 8, 2);
  for (int64_t o = 0; o < 8; ++o)
    for (int64_t k = 0; k < 256; ++k)
      REQUIRE(static_cast<float>(codes[o * 256 + k] - zeros[o * 2 + k / 128]) / 16.0f == q.w_dq[o][k].item<float>());
}

TEST_CASE("GEMM round trip on random weights reads back the fake-quantized weights", "[awq][pack]") {
  at::manual_seed(3);
  const at::Tensor w = at::randn({24, 256}) * 0.05;
  const QuantizedWeight q = pseudo_quantize_fp16(w, QuantConfig{}, "r.weight");
  const GemmTensors g = pack_gemm(q, "r.weight");
  const auto codes = qf::pack::awq_unpack_qweight(g.qweight, 24, 256);
  const auto zeros = qf::pack::awq_unpack_qzeros(g.qzeros, 24, 2);
  const at::Tensor scales = at::from_blob(const_cast<uint16_t*>(g.scales.data()), {2, 24}, at::kShort)
                                .view(at::kHalf).to(at::kFloat);
  for (int64_t o = 0; o < 24; ++o)
    for (int64_t k = 0; k < 256; ++k) {
      const float deq = half_round(static_cast<float>(codes[o * 256 + k] - zeros[o * 2 + k / 128]) *
                                   scales[k / 128][o].item<float>());
      REQUIRE(deq == q.w_dq[o][k].item<float>());
    }
  CHECK_THROWS_AS(pack_gemm(pseudo_quantize_fp16(at::zeros({12, 128}), QuantConfig{}, "x"), "x.weight"),
                  std::invalid_argument);
}
