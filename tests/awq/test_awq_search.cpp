// AWQ scale search, clipping search and scale application (docs/awq.md#scale-search, #clip-search,
// #applying-scales) on synthetic data.
#include <limits>
#include <cmath>
#include "catch_torch_awq.hpp"

#include "awq_core.hpp"

using namespace qf::awq;

namespace {

// Activations with an outlier input channel, as AWQ's salient channels.
at::Tensor outlier_inputs(int64_t n, int64_t c) {
  at::Tensor x = at::randn({n, c});
  x.select(1, 7).mul_(40.0);
  x.select(1, 100).mul_(15.0);
  return x;
}

double direct_loss(const at::Tensor& x, const at::Tensor& w, const at::Tensor& wc) {
  const at::Tensor xd = x.to(at::kDouble);
  return (at::mm(xd, w.to(at::kDouble).t()) - at::mm(xd, wc.to(at::kDouble).t())).pow(2).mean().item<double>();
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& gamma) {
  return x * at::rsqrt(x.pow(2).mean({-1}, true) + 1e-6) * gamma;
}

}  // namespace

TEST_CASE("scale search lowers the quantized loss and reports it exactly", "[awq][scale]") {
  at::manual_seed(1);
  const int64_t n = 2048, c = 256;
  const at::Tensor x = outlier_inputs(n, c);
  const at::Tensor w = at::randn({96, c}) * 0.02;
  const QuantConfig cfg;
  const CandidateLoss loss = [&](const std::vector<at::Tensor>& cand) {
    return mse(at::mm(x, w.t()), at::mm(x, cand[0].t()));
  };
  const auto r = search_scales({w}, activation_mean(x), weight_mean({w}, 128), loss, 20, true, cfg);
  REQUIRE(r.losses.size() == 20);
  const double no_scaling = direct_loss(x, w, pseudo_quantize_fp32(w, cfg));
  INFO("best ratio " << r.best_ratio << ", loss " << r.best_loss << ", unscaled " << no_scaling
                     << ", ratio 0 " << r.losses[0]);
  CHECK(r.best_ratio > 0.0);
  CHECK(r.best_loss < 0.8 * no_scaling);
  CHECK(r.best_loss < r.losses[0]);
  for (double l : r.losses) CHECK(r.best_loss <= l);
  // Brute force: quantize with the returned scales and recompute in double.
  CHECK(direct_loss(x, w, scaled_fake_quant(w, r.scales, cfg)) == Approx(r.best_loss).epsilon(1e-4));
  // Normalisation: max * min == 1.
  CHECK((r.scales.max() * r.scales.min()).item<float>() == Approx(1.0f).epsilon(1e-4));

  SECTION("duo_scaling = false: ratio 0 is the identity") {
    const at::Tensor s0 = grid_scales(activation_mean(x), weight_mean({w}, 128), 0.0, false);
    CHECK(s0.eq(1.0).all().item<bool>());
    const auto r2 = search_scales({w}, activation_mean(x), weight_mean({w}, 128), loss, 20, false, cfg);
    CHECK(r2.losses[0] == Approx(no_scaling).epsilon(1e-4));
    CHECK(r2.best_loss < no_scaling);
  }
}

TEST_CASE("sum of squared differences matches a double-precision reference", "[awq][scale]") {
  at::manual_seed(5);
  // Sizes around the 16-lane and 4096-element block edges, and one large enough to run in parallel.
  for (int64_t n : {1, 15, 16, 17, 4095, 4096, 4097, 300001}) {
    const at::Tensor a = at::randn({n}) * 3.0, b = a + at::randn({n}) * 0.01;
    const double expect = (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).sum().item<double>();
    CAPTURE(n);
    CHECK(sum_squared_diff(a, b) == Approx(expect).epsilon(1e-6));
    CHECK(sum_squared_diff(a, a) == 0.0);
  }
  // Any shape and dtype: compared element by element as fp32; mse divides by the element count.
  const at::Tensor a = at::randn({64, 33}), b = at::randn({64, 33});
  const double expect = (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).sum().item<double>();
  CHECK(sum_squared_diff(a.to(at::kBFloat16), a.to(at::kBFloat16)) == 0.0);
  CHECK(mse(a, b) == Approx(expect / (64.0 * 33.0)).epsilon(1e-6));
  CHECK_THROWS_WITH(sum_squared_diff(a, b.narrow(0, 0, 10)), Catch::Contains("differ in size"));
}

TEST_CASE("the search loss clamps overflowed outputs to the finite range as AutoAWQ does; NaN stays NaN",
          "[awq][scale]") {
  constexpr float kInf = std::numeric_limits<float>::infinity(), kMax = std::numeric_limits<float>::max();
  // Elements on both sides of the 16-lane loop's tail, in the vector part and in the scalar tail.
  for (const int64_t pos : {0, 5, 16, 17}) {
    CAPTURE(pos);
    const at::Tensor ref = at::zeros({18});
    at::Tensor out = at::zeros({18});
    out[pos] = kInf;
    // inf is read as FLT_MAX: the same sum, bit for bit, as with FLT_MAX written in its place (in the
    // 16-lane part both square to inf in fp32; the scalar tail, 16 and 17, sums in double: finite).
    const at::Tensor out_max = at::zeros({18}).index_fill_(0, at::tensor({pos}), kMax);
    CHECK(sum_squared_diff(ref, out) == sum_squared_diff(ref, out_max));
    // Overflowed on both sides: no difference, where inf - inf would have made the loss NaN.
    CHECK(sum_squared_diff(out_max, out) == 0.0);
    out[pos] = -kInf;
    CHECK(sum_squared_diff(out, out) == 0.0);
    CHECK(sum_squared_diff(out, out_max.neg()) == 0.0);
    out[pos] = std::nanf("");
    CHECK(std::isnan(sum_squared_diff(ref, out)));
    CHECK(std::isnan(mse(out, ref)));
  }
}

TEST_CASE("Gram-matrix loss equals the direct output loss", "[awq][scale]") {
  at::manual_seed(2);
  const at::Tensor x = outlier_inputs(3000, 256);
  const at::Tensor w = at::randn({64, 256}) * 0.05;
  const at::Tensor g = gram_matrix(x);
  const QuantConfig cfg;
  const at::Tensor xm = activation_mean(x), wm = weight_mean({w}, 128);
  for (double ratio : {0.0, 0.3, 0.65, 0.95}) {
    const at::Tensor cand = scaled_fake_quant(w, grid_scales(xm, wm, ratio, true), cfg);
    const double direct = mse(at::mm(x, w.t()), at::mm(x, cand.t()));
    CHECK(gram_loss(cand, w, g, x.size(0)) == Approx(direct).epsilon(1e-3));
    CHECK(gram_loss(cand, w, g, x.size(0)) == Approx(direct_loss(x, w, cand)).epsilon(1e-3));
  }
  // Both losses pick the same ratio.
  const auto direct = search_scales({w}, xm, wm, [&](const std::vector<at::Tensor>& cnd) {
    return mse(at::mm(x, w.t()), at::mm(x, cnd[0].t()));
  }, 20, true, cfg);
  const auto gram = search_scales({w}, xm, wm, [&](const std::vector<at::Tensor>& cnd) {
    return gram_loss(cnd[0], w, g, x.size(0));
  }, 20, true, cfg);
  CHECK(direct.best_ratio == gram.best_ratio);
}

TEST_CASE("clip search never increases the per-group loss", "[awq][clip]") {
  at::manual_seed(4);
  const at::Tensor x = clip_token_sample(outlier_inputs(5000, 256));
  CHECK(x.size(0) == 556);  // step = 5000 / 512 = 9 -> ceil(5000 / 9) rows
  at::Tensor w = at::randn({320, 256}) * 0.05;
  w.select(1, 3).mul_(8.0);  // weight outliers make clipping worthwhile
  const QuantConfig cfg;
  const at::Tensor max_val = search_clip(w, x, cfg);
  const at::Tensor clipped = apply_clip(w, max_val, cfg.group_size);
  const at::Tensor org_max = w.reshape({320, 2, 128}).abs().amax({2});
  CHECK((max_val <= org_max).all().item<bool>());
  CHECK((max_val >= org_max * 0.55 - 1e-6).all().item<bool>());
  const at::Tensor err_clip = clip_group_errors(w, pseudo_quantize_fp32(clipped, cfg), x, cfg.group_size);
  const at::Tensor err_none = clip_group_errors(w, pseudo_quantize_fp32(w, cfg), x, cfg.group_size);
  CHECK((err_clip <= err_none * (1 + 1e-5) + 1e-12).all().item<bool>());
  CHECK(err_clip.sum().item<double>() < err_none.sum().item<double>());
  CHECK(clip_eligible("mlp.down_proj"));
  CHECK(clip_eligible("self_attn.v_proj"));
  CHECK_FALSE(clip_eligible("self_attn.q_proj"));
  CHECK_FALSE(clip_eligible("self_attn.k_proj"));
}

TEST_CASE("clip search finds the per-group minimum of the direct (token-by-token) error", "[awq][clip]") {
  at::manual_seed(6);
  const at::Tensor x = clip_token_sample(outlier_inputs(2048, 256));
  at::Tensor w = at::randn({72, 256}) * 0.05;
  w.select(1, 130).mul_(10.0);
  const QuantConfig cfg;
  const at::Tensor max_val = search_clip(w, x, cfg);
  // Brute force over the same 10 shrinks with AutoAWQ's direct definition of the error.
  const at::Tensor org_max = w.reshape({72, 2, 128}).abs().amax({2});
  at::Tensor best = at::full({72, 2}, INFINITY);
  for (int i = 0; i < 10; ++i) {
    const at::Tensor mv = org_max * (1.0 - i / 20.0);
    const at::Tensor err =
        clip_group_errors(w, pseudo_quantize_fp32(apply_clip(w, mv, cfg.group_size), cfg), x, cfg.group_size);
    best = at::minimum(best, err);
  }
  const at::Tensor chosen =
      clip_group_errors(w, pseudo_quantize_fp32(apply_clip(w, max_val, cfg.group_size), cfg), x, cfg.group_size);
  // Every group gets the direct minimum, up to fp32 rounding of the two forms at near-ties.
  CHECK(((chosen - best).abs() <= best * 1e-4 + 1e-12).all().item<bool>());
  CHECK((max_val < org_max).any().item<bool>());  // some groups do clip
}

TEST_CASE("applying searched scales without quantizing leaves outputs unchanged", "[awq][apply]") {
  at::manual_seed(5);
  const int64_t n = 512, c = 256;
  const at::Tensor x = outlier_inputs(n, c);
  at::Tensor gamma = at::rand({c}) + 0.5;
  at::Tensor wq = at::randn({128, c}) * 0.05, wk = at::randn({64, c}) * 0.05;
  at::Tensor wv = at::randn({c, c}) * 0.05, bv = at::randn({c}) * 0.1, wo = at::randn({128, c}) * 0.05;
  const QuantConfig cfg;
  auto forward = [&] {
    const at::Tensor h = rms_norm(x, gamma);
    const at::Tensor v = at::linear(h, wv, bv);
    return std::vector<at::Tensor>{at::mm(h, wq.t()), at::mm(h, wk.t()), at::mm(v, wo.t())};
  };
  const auto before = forward();
  // Group 1: norm -> [q, k, v]; group 2: v -> [o]; scales from real searches.
  const at::Tensor h = rms_norm(x, gamma);
  const auto loss1 = [&](const std::vector<at::Tensor>& cand) {
    return mse(at::mm(h, wq.t()), at::mm(h, cand[0].t())) + mse(at::mm(h, wk.t()), at::mm(h, cand[1].t()));
  };
  const auto s1 = search_scales({wq, wk, wv}, activation_mean(h), weight_mean({wq, wk, wv}, 128), loss1, 20, true,
                                cfg).scales;
  const at::Tensor v = at::linear(h, wv, bv);
  const auto loss2 = [&](const std::vector<at::Tensor>& cand) { return mse(at::mm(v, wo.t()), at::mm(v, cand[0].t())); };
  const auto s2 = search_scales({wo}, activation_mean(v), weight_mean({wo}, 128), loss2, 20, true, cfg).scales;
  REQUIRE((s1.max() / s1.min()).item<float>() > 1.5f);  // non-trivial scales
  apply_scale_norm(gamma, nullptr, {&wq, &wk, &wv}, s1);
  apply_scale_linear(wv, &bv, {&wo}, s2);
  const auto after = forward();
  for (size_t i = 0; i < before.size(); ++i) {
    const double rel = ((after[i] - before[i]).norm() / before[i].norm()).item<double>();
    INFO("output " << i << " relative error " << rel);
    CHECK(rel <= 1e-5);
  }
}
