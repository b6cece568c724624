// Decoder layer against a naive reference, plus first-principles properties (causality, GQA, RoPE).
#include "catch_torch.hpp"

#include "model/attention.hpp"
#include "model/attention_fused.hpp"
#include "model/decoder_layer.hpp"
#include "model/norm.hpp"
#include "model/rope.hpp"
#include "reference_layer.hpp"

using namespace qf::model;
using qf::test::rel_err;

namespace {

DecoderLayer make_layer(const ModelConfig& c, const WeightSource& w, ComputeOptions o = {}) {
  return DecoderLayer(c, find_architecture(c.model_type), w, 1, o);
}

at::Tensor hidden(int64_t b, int64_t t, int64_t h, uint64_t seed = 7) {
  return at::randn({b, t, h}, at::detail::createCPUGenerator(seed), at::TensorOptions());
}

}  // namespace

TEST_CASE("layer forward matches the naive reference (fp32)", "[layer]") {
  for (const std::string type : {"llama", "mistral", "qwen2", "qwen3", "opt"}) {
    for (int64_t kv : {1, 2, 4}) {
      auto c = qf::test::tiny_config(type, kv);
      if (type == "qwen2") c.rope.theta = 1e6;
      auto w = qf::test::random_weights(c, 3);
      at::Tensor x = hidden(2, 17, c.hidden_size);
      double err = rel_err(make_layer(c, *w).forward(x), qf::test::ref_layer(c, *w, 1, x));
      INFO(type << " kv=" << kv << " rel err " << err);
      CHECK(err < 1e-5);
    }
  }
}

TEST_CASE("rope variants and partial rotary match the reference", "[layer][rope]") {
  auto c = qf::test::tiny_config("llama");
  auto w = qf::test::random_weights(c, 4);
  at::Tensor x = hidden(1, 40, c.hidden_size);
  std::vector<RopeConfig> ropes(5, c.rope);
  ropes[1].type = RopeType::Linear;
  ropes[1].factor = 2.0;
  ropes[2].type = RopeType::Llama3;
  ropes[2].factor = 8.0;
  ropes[2].original_max_position_embeddings = 32;
  ropes[3].type = RopeType::Dynamic;
  ropes[3].factor = 2.0;
  ropes[3].original_max_position_embeddings = 16;  // shorter than the sequence: base grows
  ropes[4].partial_rotary_factor = 0.5;
  for (const auto& r : ropes) {
    c.rope = r;
    double err = rel_err(make_layer(c, *w).forward(x), qf::test::ref_layer(c, *w, 1, x));
    INFO("rope type " << static_cast<int>(r.type) << " partial " << r.partial_rotary_factor << " err " << err);
    CHECK(err < 1e-5);
  }
}

TEST_CASE("rope: position 0 is the identity; llama3 keeps high frequencies", "[rope]") {
  auto c = qf::test::tiny_config("llama");
  at::Tensor q = at::randn({1, 2, 5, c.head_dim});
  at::Tensor r = apply_rope(q, rope_tables(c, 5, at::kFloat));
  CHECK(at::allclose(r.narrow(2, 0, 1), q.narrow(2, 0, 1)));
  CHECK_FALSE(at::allclose(r.narrow(2, 1, 1), q.narrow(2, 1, 1)));
  at::Tensor base = rope_inv_freq(c, 8);
  c.rope.type = RopeType::Llama3;
  c.rope.factor = 8;
  c.rope.original_max_position_embeddings = 64;
  at::Tensor l3 = rope_inv_freq(c, 8);
  CHECK(l3[0].item<float>() == base[0].item<float>());                                    // short wavelength kept
  CHECK(l3[-1].item<float>() == Approx(base[-1].item<float>() / 8).epsilon(1e-6));       // long one slowed 8x
}

TEST_CASE("rope in place equals the eager rotation bit for bit, through strided views", "[rope]") {
  // apply_rope is the transformers op sequence in ATen; apply_rope_ is one hand-written pass. They
  // must agree exactly in bf16 and fp32, on views of a fused q/k/v product as the layer passes them,
  // with full and partial rotary, and leave the columns next to the view untouched.
  auto c = qf::test::tiny_config("llama");
  c.rope.theta = 10000.0;
  for (const double partial : {1.0, 0.5}) {
    c.rope.partial_rotary_factor = partial;
    for (const at::ScalarType dt : {at::kBFloat16, at::kFloat}) {
      const int64_t b = 2, t = 37, heads = 3, d = c.head_dim, width = heads * d + 5;
      const at::Tensor fused = (at::randn({b, t, width}) * 3).to(dt);
      const at::Tensor q = fused.narrow(2, 0, heads * d).view({b, t, heads, d}).transpose(1, 2);
      const RopeTables tables = rope_tables(c, t, dt);
      const at::Tensor expected = apply_rope(q, tables);
      const at::Tensor tail = fused.narrow(2, heads * d, 5).clone();
      const at::Tensor before = q.clone();
      apply_rope_(q, tables);
      INFO("dtype " << dt << ", partial rotary " << partial);
      CHECK(at::equal(q.contiguous(), expected.contiguous()));
      CHECK(at::equal(fused.narrow(2, heads * d, 5), tail));
      CHECK(at::equal(q.narrow(2, 0, 1), before.narrow(2, 0, 1)));         // position 0: identity
      CHECK_FALSE(at::equal(q.narrow(2, 1, t - 1), before.narrow(2, 1, t - 1)));  // the rest rotated
    }
  }
}

TEST_CASE("one-pass bf16 RMSNorm equals transformers' eager op sequence", "[norm]") {
  // The eager sequence written out in ATen ops, as transformers' LlamaRMSNorm runs it. The one-pass
  // kernel sums the squares in double, ATen in fp32: the mean may differ in its last bit, so the
  // normalised value may (rarely) move by one bf16 ulp, and the weighted output, rounded once more, by
  // at most two; nothing more. Seeded: the bound must hold for these inputs every run.
  const at::ScalarType dt = at::kBFloat16;
  const int64_t n = 896;
  auto gen = at::detail::createCPUGenerator(11);
  const at::Tensor x = (at::randn({3, 171, n}, gen, at::TensorOptions()) * 4).to(dt);
  const at::Tensor xf = x.to(at::kFloat);
  const double ulp = 1.0 / 128;
  auto max_rel = [](const at::Tensor& a, const at::Tensor& b) {
    const at::Tensor bf = b.to(at::kFloat);
    return ((a.to(at::kFloat) - bf).abs() / bf.abs().clamp_min(1e-30)).max().item<double>();
  };
  const at::Tensor ones = at::ones({n}, dt);  // the normalised value alone: the weight product is exact
  const at::Tensor normed = (xf * at::rsqrt(xf.pow(2).mean(-1, true) + 1e-6)).to(dt);
  CHECK(max_rel(rms_norm_bf16(x, ones, 1e-6), normed) <= ulp);
  const at::Tensor w = (at::rand({n}, gen, at::TensorOptions()) + 0.5).to(dt);
  const at::Tensor eager = w * normed;
  const at::Tensor ours = rms_norm_bf16(x, w, 1e-6);
  REQUIRE(ours.sizes() == x.sizes());
  const at::Tensor differ = ours.ne(eager);
  INFO(differ.sum().item<int64_t>() << " of " << x.numel() << " differ");
  CHECK(differ.sum().item<int64_t>() * 1000 <= x.numel());  // at most 0.1%
  CHECK(at::equal(Norm{NormKind::RMSNorm, w, {}, 1e-6}(x), ours));  // the layer's norm takes this path
  CHECK(max_rel(ours, eager) <= 2 * ulp);
  // Through a strided view (Qwen3's per-head q/k norms see the q/k/v product's columns).
  const at::Tensor wide = (at::randn({2, 5, 3 * 64 + 7}, gen, at::TensorOptions()) * 2).to(dt);
  const at::Tensor heads = wide.narrow(2, 0, 3 * 64).view({2, 5, 3, 64});
  const at::Tensor hw = (at::rand({64}, gen, at::TensorOptions()) + 0.5).to(dt);
  const at::Tensor hf = heads.to(at::kFloat);
  const at::Tensor heager = hw * (hf * at::rsqrt(hf.pow(2).mean(-1, true) + 1e-6)).to(dt);
  CHECK(rms_norm_bf16(heads, hw, 1e-6).to(at::kFloat).sub(heager.to(at::kFloat)).abs().max().item<double>() <=
        ulp * heager.to(at::kFloat).abs().max().item<double>());
}

TEST_CASE("GQA with kv == heads equals MHA on repeated K/V", "[attention]") {
  at::Tensor q = at::randn({2, 6, 9, 8}), k = at::randn({2, 3, 9, 8}), v = at::randn({2, 3, 9, 8});
  at::Tensor gqa = causal_attention(q, k, v, 0.3, false);
  at::Tensor mha = causal_attention(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), 0.3, false);
  CHECK(rel_err(gqa, mha) < 1e-6);
}

TEST_CASE("blocked attention of tiny inputs never picks up NaN from uninitialised memory", "[attention]") {
  // ATen's small-matrix baddbmm reads its output even with beta = 0; freed NaN-filled blocks are what
  // a fresh allocation then sees. 2 of 300 such calls gave NaN before the scores were zeroed.
  int with_nan = 0;
  for (int i = 0; i < 300; ++i) {
    const at::Tensor q = at::randn({2, 8, 1, 32}).to(at::kBFloat16), k = at::randn({2, 2, 1, 32}).to(at::kBFloat16);
    const at::Tensor v = at::randn({2, 2, 1, 32}).to(at::kBFloat16);
    { at::empty({4096}, at::kFloat).fill_(std::nanf("")); }
    with_nan += blocked_causal_attention(q, k, v, 0.17, false).isnan().any().item<bool>();
  }
  CHECK(with_nan == 0);
}

TEST_CASE("fused attention: the blocked ATen attention to rounding, GQA exact, causal", "[attention]") {
  using qf::model::fused_attention_available;
  using qf::model::fused_causal_attention;
  at::manual_seed(11);
  for (const at::ScalarType dtype : {at::kBFloat16, at::kFloat}) {
    if (!fused_attention_available(dtype, 64)) {
      WARN("this CPU lacks the AVX-512 features (or QUANTFORGE_FUSED_ATTENTION=0): the fused " << dtype
                                                                                              << " kernel is not exercised");
      continue;
    }
    // Head sizes of every kernel; lengths whose last block of rows holds 1, 2, 3 or 4 rows, with odd
    // and even numbers of key tiles.
    for (const int64_t d : {32, 64, 96, 128}) {
      for (const int64_t t : {1, 2, 7, 16, 35, 45, 300}) {
        INFO(dtype << ", head size " << d << ", " << t << " tokens");
        // q as the layer hands it over: a transposed view of [B, T, H, D]; 8 heads on 2 kv heads.
        const at::Tensor q = (at::randn({2, t, 8, d}) * 2).to(dtype).transpose(1, 2);
        const at::Tensor k = (at::randn({2, t, 2, d}) * 2).to(dtype).transpose(1, 2);
        const at::Tensor v = at::randn({2, t, 2, d}).to(dtype).transpose(1, 2);
        const double scale = 1.0 / std::sqrt(static_cast<double>(d));
        const at::Tensor fused = fused_causal_attention(q, k, v, scale).to(at::kFloat);
        const at::Tensor blocked = blocked_causal_attention(q, k, v, scale, false).to(at::kFloat);
        // They differ in summation order, the exponential (ours ~1 ulp of fp32) and 1/sum against
        // division: a few bf16 ulps in bf16 (which rounds scores, probabilities and outputs), ~1e-6 in fp32.
        const at::Tensor diff = (fused - blocked).abs();
        const float largest = std::max(1.0f, blocked.abs().max().item<float>());
        if (dtype == at::kBFloat16) {
          CHECK(diff.max().item<float>() <= 4 * std::ldexp(1.0f, -8) * largest);
          CHECK(diff.mean().item<float>() < 2e-3f);
        } else {
          CHECK(diff.max().item<float>() <= 1e-5f * largest);
        }
        // GQA shares K/V without repeating them: the same arithmetic as MHA on repeated K/V, bit for bit.
        const at::Tensor mha = fused_causal_attention(q, k.repeat_interleave(4, 1), v.repeat_interleave(4, 1), scale);
        CHECK(at::equal(mha.to(at::kFloat), fused));
        // Causal: changing the last key and value leaves every earlier position's output as it was.
        if (t > 1) {
          at::Tensor k2 = k.clone(), v2 = v.clone();
          k2.narrow(2, t - 1, 1).normal_();
          v2.narrow(2, t - 1, 1).normal_();
          const at::Tensor changed = fused_causal_attention(q, k2, v2, scale).to(at::kFloat);
          CHECK(at::equal(changed.narrow(1, 0, t - 1), fused.narrow(1, 0, t - 1)));
        }
      }
    }
  }
}

TEST_CASE("causal: changing a later token leaves earlier outputs unchanged", "[layer]") {
  auto c = qf::test::tiny_config("qwen3");
  auto w = qf::test::random_weights(c, 5);
  auto layer = make_layer(c, *w);
  at::Tensor x = hidden(1, 12, c.hidden_size);
  at::Tensor y = x.clone();
  y.narrow(1, 8, 4).normal_();
  at::Tensor a = layer.forward(x), b = layer.forward(y);
  CHECK(at::equal(a.narrow(1, 0, 8), b.narrow(1, 0, 8)));
  CHECK_FALSE(at::allclose(a.narrow(1, 8, 4), b.narrow(1, 8, 4)));
}

TEST_CASE("sliding window longer than the sequence is ignored; shorter is an error", "[layer]") {
  auto c = qf::test::tiny_config("mistral");
  auto w = qf::test::random_weights(c, 6);
  c.sliding_window = 16;
  auto layer = make_layer(c, *w);
  CHECK_NOTHROW(layer.forward(hidden(1, 16, c.hidden_size)));
  CHECK_THROWS_WITH(layer.forward(hidden(1, 17, c.hidden_size)), Catch::Contains("sliding_window"));
}

TEST_CASE("bf16 layer forward stays close to fp32", "[layer][bf16]") {
  for (const std::string type : {"llama", "opt", "qwen3"}) {
    auto c = qf::test::tiny_config(type);
    auto w = qf::test::random_weights(c, 8);
    at::Tensor x = hidden(2, 32, c.hidden_size);
    at::Tensor ref = make_layer(c, *w).forward(x);
    for (bool fp32_scores : {false, true}) {
      ComputeOptions o{at::kBFloat16, fp32_scores};
      at::Tensor y = make_layer(c, *w, o).forward(x);
      CHECK(y.scalar_type() == at::kBFloat16);
      double err = rel_err(y, ref);
      WARN(type << " bf16 layer rel err (fp32 scores=" << fp32_scores << "): " << err);
      CHECK(err < 3e-2);
    }
  }
}
