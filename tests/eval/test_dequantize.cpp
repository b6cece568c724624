// The dequantizing loader on synthetic packed Linears (MapSource): GPTQ v1/v2 at 2/4/8 bits with an
// act-order style g_idx, AWQ GEMM, pass-through of everything else; scheme parsing.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "eval/quantized_source.hpp"
#include "fake_quant_model.hpp"
#include "quantforge/packing.hpp"
#include "safetensors/reader.hpp"

using qf::eval::QuantizedSource;
using qf::eval::QuantScheme;
using qf::model::MapSource;

namespace {

std::vector<int32_t> random_ints(int64_t n, int32_t lo, int32_t hi, at::Generator& gen) {
  const at::Tensor t = at::randint(lo, hi + 1, {n}, gen, at::kInt);
  return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n);
}

at::Tensor words(const std::vector<int32_t>& v, std::vector<int64_t> shape) {
  return at::from_blob(const_cast<int32_t*>(v.data()), shape, at::kInt).clone();
}

QuantScheme scheme(const std::string& j) { return qf::eval::parse_quant_scheme(nlohmann::json::parse(j), "test"); }

}  // namespace

TEST_CASE("GPTQ v1/v2 dequantization honours g_idx at 2, 4 and 8 bits", "[eval][dequant]") {
  auto gen = at::detail::createCPUGenerator(7);
  for (int bits : {2, 4, 8}) {
    for (bool v1 : {true, false}) {
      const int64_t out = 64, in = 128, gs = 32, ng = in / gs;
      const int32_t maxq = (1 << bits) - 1;
      const std::vector<int32_t> codes = random_ints(out * in, 0, maxq, gen);
      // v1 cannot store a zero point of 0 (docs/gptq.md#packing-v1-and-v2).
      const std::vector<int32_t> zeros = random_ints(out * ng, v1 ? 1 : 0, maxq, gen);
      // act-order: a permutation's groups, i.e. g_idx is not monotone.
      const at::Tensor perm = at::randperm(in, gen, at::kLong);
      const at::Tensor g_idx = at::div(perm, gs, "floor").to(at::kInt);
      const at::Tensor scales = (at::rand({ng, out}, gen) * 0.01 + 0.001).to(at::kHalf);
      std::map<std::string, at::Tensor> t;
      t["l.qweight"] = words(qf::pack::gptq_pack_qweight(codes, out, in, bits), {in * bits / 32, out});
      t["l.qzeros"] = words(qf::pack::gptq_pack_qzeros(zeros, out, ng, bits, v1), {ng, out * bits / 32});
      t["l.scales"] = scales;
      t["l.g_idx"] = g_idx;
      t["l.bias"] = at::randn({out}, gen).to(at::kHalf);
      t["norm.weight"] = at::randn({in}, gen).to(at::kBFloat16);
      const std::string fmt = v1 ? "gptq" : "gptq_v2";
      const QuantizedSource src(std::make_shared<MapSource>(t),
                                scheme(R"({"quant_method":"gptq","bits":)" + std::to_string(bits) +
                                       R"(,"group_size":32,"checkpoint_format":")" + fmt + "\"}"));
      REQUIRE(src.contains("l.weight"));
      REQUIRE(src.is_packed("l.weight"));
      const at::Tensor w = src.borrow("l.weight");
      REQUIRE(w.scalar_type() == at::kFloat);
      REQUIRE(w.sizes() == at::IntArrayRef({out, in}));
      const at::Tensor s32 = scales.to(at::kFloat);
      double max_diff = 0;
      for (int64_t o = 0; o < out; ++o)
        for (int64_t i = 0; i < in; ++i) {
          const int64_t g = g_idx[i].item<int32_t>();
          const float expect = s32[g][o].item<float>() * static_cast<float>(codes[o * in + i] - zeros[o * ng + g]);
          max_diff = std::max(max_diff, static_cast<double>(std::abs(w[o][i].item<float>() - expect)));
        }
      CHECK(max_diff == 0.0);
      // Everything else passes through as stored.
      CHECK(src.borrow("l.bias").equal(t["l.bias"]));
      CHECK(src.borrow("norm.weight").scalar_type() == at::kBFloat16);
      CHECK_FALSE(src.contains("other.weight"));
    }
  }
}

TEST_CASE("GPTQ v1 reads the constant symmetric zero words (0x77777777 at 4 bits)", "[eval][dequant]") {
  const int64_t out = 8, in = 32;
  std::map<std::string, at::Tensor> t;
  std::vector<int32_t> codes(out * in, 9);
  t["l.qweight"] = words(qf::pack::gptq_pack_qweight(codes, out, in, 4), {4, out});
  t["l.qzeros"] = at::full({1, 1}, 0x77777777, at::kInt);  // v1 4-bit sym: z = 8 stored as 7
  t["l.scales"] = at::full({1, out}, 0.5, at::kHalf);
  const QuantizedSource src(std::make_shared<MapSource>(t), scheme(R"({"bits":4,"group_size":-1,"sym":true})"));
  CHECK(src.borrow("l.weight").equal(at::full({out, in}, 0.5f)));  // 0.5 * (9 - 8), no g_idx: one group
}

TEST_CASE("AWQ GEMM dequantization", "[eval][dequant]") {
  auto gen = at::detail::createCPUGenerator(11);
  const int64_t out = 48, in = 256, ng = 2;
  const std::vector<int32_t> codes = random_ints(out * in, 0, 15, gen), zeros = random_ints(out * ng, 0, 15, gen);
  const at::Tensor scales = (at::rand({ng, out}, gen) * 0.01 + 0.001).to(at::kHalf);
  std::map<std::string, at::Tensor> t;
  t["m.qweight"] = words(qf::pack::awq_pack_qweight(codes, out, in), {in, out / 8});
  t["m.qzeros"] = words(qf::pack::awq_pack_qzeros(zeros, out, ng), {ng, out / 8});
  t["m.scales"] = scales;
  const QuantizedSource src(std::make_shared<MapSource>(t), scheme(R"({"quant_method":"awq","bits":4,"group_size":128,"version":"gemm","zero_point":true})"));
  const at::Tensor w = src.borrow("m.weight");
  const at::Tensor q = at::from_blob(const_cast<int32_t*>(codes.data()), {out, in}, at::kInt).to(at::kFloat);
  const at::Tensor z = at::from_blob(const_cast<int32_t*>(zeros.data()), {out, ng}, at::kInt).to(at::kFloat);
  const at::Tensor expect = scales.to(at::kFloat).t().repeat_interleave(128, 1) * (q - z.repeat_interleave(128, 1));
  CHECK(w.equal(expect));
}

TEST_CASE("packed tensors with wrong shapes or no scheme are clear errors", "[eval][dequant]") {
  std::map<std::string, at::Tensor> t;
  t["l.qweight"] = at::zeros({4, 8}, at::kInt);
  t["l.qzeros"] = at::zeros({2, 1}, at::kInt);
  t["l.scales"] = at::ones({2, 8}, at::kHalf);  // 2 groups, but 32 inputs in groups of 128 make 1
  const QuantizedSource bad(std::make_shared<MapSource>(t), scheme(R"({"quant_method":"gptq","bits":4,"group_size":128})"));
  CHECK_THROWS_WITH(bad.borrow("l.weight"), Catch::Contains("l.scales") && Catch::Contains("groups"));
  const QuantizedSource none(std::make_shared<MapSource>(t), std::nullopt);
  CHECK_THROWS_WITH(none.borrow("l.weight"), Catch::Contains("no quantization config"));
  t.erase("l.qzeros");
  const QuantizedSource missing(std::make_shared<MapSource>(t), scheme(R"({"quant_method":"gptq","bits":4,"group_size":-1})"));
  CHECK_THROWS_WITH(missing.borrow("l.weight"), Catch::Contains("l.qzeros") && Catch::Contains("not found"));
}

TEST_CASE("quantization scheme parsing", "[eval][scheme]") {
  auto s = scheme(R"({"quant_method":"gptq","bits":8,"group_size":128,"format":"gptq_v2"})");
  CHECK(s.method == QuantScheme::Method::Gptq);
  CHECK_FALSE(s.gptq_v1);
  CHECK(s.describe() == "GPTQ v2 8-bit g128");
  s = scheme(R"({"zero_point":true,"q_group_size":64,"w_bit":4,"version":"GEMM"})");  // AutoAWQ legacy file
  CHECK(s.method == QuantScheme::Method::Awq);
  CHECK(s.group_size == 64);
  CHECK(s.describe() == "AWQ GEMM 4-bit g64");
  CHECK(scheme(R"({"bits":4,"group_size":128})").gptq_v1);  // AutoGPTQ default format
  CHECK_THROWS_WITH(scheme(R"({"quant_method":"bitsandbytes"})"), Catch::Contains("not supported"));
  CHECK_THROWS_WITH(scheme(R"({"quant_method":"awq","bits":4,"version":"gemv"})"), Catch::Contains("gemv"));
  CHECK_THROWS_WITH(scheme(R"({"quant_method":"gptq","bits":3})"), Catch::Contains("bits 3"));
  CHECK_THROWS_WITH(scheme(R"({"quant_method":"gptq","bits":4,"checkpoint_format":"marlin"})"),
                    Catch::Contains("marlin"));
}

TEST_CASE("the test's RTN formulas give the golden codes of q_proj (tiny-llama-rtn.safetensors)", "[eval][rtn]") {
  const auto ckpt = qf::st::Checkpoint::open(qf::test::tiny_llama_dir());
  const qf::model::CheckpointSource src(ckpt);
  const qf::model::CheckpointSource golden(
      qf::st::Checkpoint::open_files({qf::test::kData / "goldens" / "tiny-llama-rtn.safetensors"}));
  const at::Tensor w = src.borrow("model.layers.0.self_attn.q_proj.weight").to(at::kFloat);
  const auto w4 = qf::test::rtn_quantize(w, 4, false);
  CHECK(w4.q.equal(golden.borrow("w4_asym_q").to(at::kFloat)));
  CHECK(w4.scale.equal(golden.borrow("w4_asym_scale")));
  CHECK(w4.zero.equal(golden.borrow("w4_asym_zero")));
  const auto w8 = qf::test::rtn_quantize(w, 8, true);
  CHECK(w8.q.equal(golden.borrow("w8_sym_q").to(at::kFloat)));
  CHECK(w8.scale.equal(golden.borrow("w8_sym_scale")));
  CHECK(w8.zero.equal(golden.borrow("w8_sym_zero")));
}
