// GPTQ solver (plugins/gptq/gptq_solver.*): the golden toy example (docs/gptq.md#golden-toy-example), GPTQ beats
// RTN on correlated inputs, act-order + g_idx, static groups, dead columns, damping retries.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "gptq_quantizer.hpp"
#include "gptq_solver.hpp"
#include "quantforge/packing.hpp"
#include "quantforge/quantizer.hpp"

using namespace qf::gptq;

namespace {

std::vector<int32_t> ints(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kInt).contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

at::Tensor from_rows(const std::vector<std::vector<double>>& m) {
  const int64_t r = static_cast<int64_t>(m.size()), c = static_cast<int64_t>(m[0].size());
  std::vector<double> flat;
  for (const auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
  return at::from_blob(flat.data(), {r, c}, at::kDouble).clone();
}

// Correlated calibration inputs X = Z A (tokens x feats) with per-feature scales, and a weight with
// a few outliers.
struct Problem {
  at::Tensor x, w, h;
};
Problem make_problem(int64_t feats, int64_t tokens, int64_t out, uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor z = at::randn({tokens, feats});
  const at::Tensor a = at::randn({feats, feats}) / std::sqrt(static_cast<double>(feats)) +
                       at::eye(feats) * 0.5;
  const at::Tensor col_scale = at::exp(at::randn({feats}) * 0.7);
  Problem p;
  p.x = (z.matmul(a) * col_scale).contiguous();
  p.w = at::randn({out, feats}) * 0.02;
  p.w.index_put_({at::randint(out, {8}), at::randint(feats, {8})}, 0.3);
  p.h = hessian_from_gram(p.x.t().matmul(p.x), tokens);
  return p;
}

// Independent RTN with the SDK's scalar quantizer (quantizer.hpp), fp32 scales.
at::Tensor sdk_rtn(const at::Tensor& w, int bits, int64_t gs, bool sym) {
  const at::Tensor wc = w.contiguous();
  const int64_t rows = w.size(0), cols = w.size(1);
  if (gs == -1) gs = cols;
  at::Tensor out = at::empty_like(wc);
  const float* pw = wc.data_ptr<float>();
  float* po = out.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < cols; g0 += gs) {
      const int64_t n = std::min(gs, cols - g0);
      const auto p = qf::quant::gptq_find_params(pw + r * cols + g0, n, bits, sym);
      for (int64_t j = 0; j < n; ++j)
        po[r * cols + g0 + j] = qf::quant::dequantize_code(qf::quant::quantize_code(pw[r * cols + g0 + j], p, bits), p);
    }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------ (a)
// The golden toy example (docs/gptq.md#golden-toy-example). W is given; the 6x4 X the reference
// script drew is not, so its full code matrices cannot be checked. What does not depend on H is
// checked exactly against the published values (all scales and zeros, because per-channel params come from the untouched W (Q2)
// and the g=2 group params from the global W that the in-block updates do not touch (Q1); the first
// column of every case, which no error feedback reaches). The full code matrices are checked for a
// stand-in X against an independent float64 port of the reference (below).
namespace golden {
const std::vector<std::vector<double>> kW = {{0.9, -0.3, 0.2, 0.5}, {-0.4, 0.1, 0.7, -0.6}};

SolverResult run(int bits, int64_t gs, bool sym, const at::Tensor& h) {
  SolverOptions o;
  o.bits = bits;
  o.group_size = gs;
  o.sym = sym;
  o.damp_percent = 0.01;
  o.damp_auto_increment = 0.0;
  return fasterquant(from_rows(kW).to(at::kFloat), h, o, "toy");
}
// H = 2 X^T X for the stand-in X (6 tokens x 4 features); any SPD H leaves the spec's H-independent
// expectations unchanged.
at::Tensor hessian() {
  const at::Tensor x = from_rows({{1.0, 0.2, -0.1, 0.3}, {0.5, -1.0, 0.4, 0.0}, {-0.3, 0.6, 1.2, -0.5},
                                  {0.8, 0.1, -0.7, 1.1}, {0.0, 0.9, 0.3, -0.2}, {-1.1, -0.4, 0.5, 0.6}});
  return (2.0 * x.t().matmul(x)).to(at::kFloat);
}
}  // namespace golden

TEST_CASE("golden toy example: scales, zeros and H-independent codes", "[gptq][golden]") {
  const at::Tensor h = golden::hessian();
  {
    const SolverResult r = golden::run(4, -1, true, h);
    CHECK(r.scales[0][0].item<float>() == Approx(0.12f).epsilon(1e-6));
    CHECK(r.scales[1][0].item<float>() == Approx(0.0933333f).epsilon(1e-6));
    CHECK(ints(r.zeros) == std::vector<int32_t>{8, 8});
    CHECK(r.codes[0][0].item<int>() == 15);  // 0.9/0.12 = 7.5 -> 8 (half to even) + 8 -> clamp 15
    CHECK(r.codes[1][0].item<int>() == 4);
  }
  {
    const SolverResult r = golden::run(4, -1, false, h);
    CHECK(r.scales[0][0].item<float>() == Approx(0.08f).epsilon(1e-6));
    CHECK(r.scales[1][0].item<float>() == Approx(0.0866667f).epsilon(1e-6));
    CHECK(ints(r.zeros) == std::vector<int32_t>{4, 7});
    CHECK(r.codes[0][0].item<int>() == 15);
    CHECK(r.codes[1][0].item<int>() == 2);
  }
  {
    const SolverResult r = golden::run(8, -1, true, h);
    CHECK(ints(r.zeros) == std::vector<int32_t>{128, 128});
    CHECK(r.codes[0][0].item<int>() == 255);  // 127.5 -> 128 + 128 -> clamp 255
    CHECK(r.codes[1][0].item<int>() == 55);
  }
  {
    const SolverResult r = golden::run(4, 2, true, h);
    REQUIRE(r.scales.size(1) == 2);
    CHECK(r.scales[0][1].item<float>() == Approx(0.5f / 15).epsilon(1e-6));  // quirk Q4: [0.2, 0.5] >= 0
    CHECK(r.codes[0][0].item<int>() == 15);
    CHECK(r.codes[1][0].item<int>() == 0);  // -0.4 / (0.8/15) = -7.5 -> -8 (half to even) + 8
    CHECK(ints(r.g_idx) == std::vector<int32_t>{0, 0, 1, 1});
  }
}

// The same toy W with the stand-in X above, and a 3x8 case with blocksize 4 and group 3 (groups
// that start inside a block: quirk Q1; lazy batch updates; act-order; static groups), against an
// independent float64 pure-python port of IST/AutoGPTQ fasterquant (codes printed by that script).
TEST_CASE("fasterquant matches an independent float64 port of the reference", "[gptq][golden]") {
  const at::Tensor h = golden::hessian();
  CHECK(ints(golden::run(4, -1, true, h).codes) == std::vector<int32_t>{15, 6, 9, 12, 4, 9, 15, 1});
  CHECK(ints(golden::run(4, -1, false, h).codes) == std::vector<int32_t>{15, 0, 6, 10, 2, 8, 15, 0});
  CHECK(ints(golden::run(8, -1, true, h).codes) == std::vector<int32_t>{255, 86, 156, 199, 55, 146, 255, 18});
  CHECK(ints(golden::run(4, 2, true, h).codes) == std::vector<int32_t>{15, 6, 13, 15, 0, 10, 15, 1});
  const at::Tensor w2 = from_rows({{-0.731, 0.695, 0.528, -0.49, -0.009, -0.101, 0.303, 0.577},
                                   {-0.812, -0.943, 0.672, -0.134, 0.525, -0.996, -0.109, 0.443},
                                   {-0.542, 0.891, 0.803, -0.939, -0.949, 0.083, 0.878, -0.238}});
  const at::Tensor x2 = from_rows({{-0.567, -0.156, -0.942, -0.557, -0.124, -0.008, -0.534, -0.538},
                                   {-0.562, -0.081, -0.42, -0.957, 0.675, 0.113, 0.285, -0.628},
                                   {0.985, 0.72, -0.758, -0.335, 0.443, 0.422, 0.873, -0.156},
                                   {0.66, 0.341, -0.393, 0.175, 0.765, 0.692, 0.011, 0.178},
                                   {-0.931, -0.515, 0.595, -0.171, -0.654, 0.098, 0.406, 0.349},
                                   {-0.251, -0.122, 0.017, 0.557, 0.042, -0.213, -0.021, -0.941},
                                   {-0.913, 0.407, 0.966, 0.186, -0.213, -0.659, 0.004, 0.964},
                                   {0.541, 0.079, 0.721, -0.536, 0.028, 0.905, 0.156, -0.082},
                                   {-0.461, 0.096, 0.914, -0.989, 0.567, 0.641, 0.772, 0.481},
                                   {0.618, 0.037, 0.123, -0.148, -0.888, 0.74, 0.14, -0.6},
                                   {0.009, -0.03, -0.286, -0.308, 0.077, 0.247, 0.225, -0.084},
                                   {-0.944, -0.541, -0.646, 0.169, 0.722, 0.597, 0.594, 0.633}});
  const at::Tensor h2 = (2.0 * x2.t().matmul(x2)).to(at::kFloat);
  SolverOptions o;
  o.bits = 4;
  o.group_size = 3;
  o.sym = false;
  o.damp_percent = 0.01;
  o.blocksize = 4;
  o.damp_auto_increment = 0.0;
  const at::Tensor w2f = w2.to(at::kFloat);
  CHECK(ints(fasterquant(w2f, h2, o).codes) ==
        std::vector<int32_t>{0, 15, 14, 1, 15, 13, 8, 15, 1, 1, 15, 9, 15, 1, 0, 15, 0, 15, 14, 0, 0, 15, 15, 0});
  o.desc_act = true;
  CHECK(ints(fasterquant(w2f, h2, o).codes) ==
        std::vector<int32_t>{0, 15, 14, 0, 15, 11, 7, 15, 0, 0, 15, 9, 15, 0, 14, 12, 0, 15, 15, 0, 0, 15, 15, 3});
  o.static_groups = true;
  CHECK(ints(fasterquant(w2f, h2, o).codes) ==
        std::vector<int32_t>{0, 15, 14, 1, 15, 13, 8, 14, 1, 1, 15, 9, 15, 1, 0, 15, 0, 15, 14, 0, 0, 15, 15, 0});
}

// ------------------------------------------------------------------------------------------ (b)
TEST_CASE("GPTQ's layer objective is below RTN's on correlated inputs", "[gptq][objective]") {
  const Problem p = make_problem(256, 2048, 192, 1);
  struct Case {
    int bits;
    int64_t gs;
    bool sym;
  };
  for (const Case c : {Case{4, 128, true}, Case{4, 128, false}, Case{8, 128, true}, Case{4, -1, true}}) {
    SolverOptions o;
    o.bits = c.bits;
    o.group_size = c.gs;
    o.sym = c.sym;
    o.damp_percent = 0.01;
    const SolverResult r = fasterquant(p.w, p.h, o, "correlated");
    const at::Tensor rtn_w = sdk_rtn(p.w, c.bits, c.gs, c.sym);
    const double e_gptq = layer_objective(p.w, r.dequantized, p.x);
    const double e_rtn = layer_objective(p.w, rtn_w, p.x);
    INFO("bits " << c.bits << " gs " << c.gs << " sym " << c.sym << ": GPTQ " << e_gptq << " RTN " << e_rtn
                 << " solver loss " << r.loss << " objective/N " << e_gptq / 2048);
    CHECK(e_gptq < 0.8 * e_rtn);
    // The Losses sum estimates ||(W-Q)X||^2 / N (N = tokens, H = 2/N X^T X), up to the damping.
    CHECK(r.loss == Approx(e_gptq / 2048).epsilon(0.5));
    // RTN through the solver (H = I) is exactly the SDK's RTN.
    CHECK(at::equal(rtn(p.w, o).dequantized, rtn_w));
  }
}

// ------------------------------------------------------------------------------------------ (c)
TEST_CASE("desc_act: g_idx dequantizes the codes to the solver's weight; packing round-trips", "[gptq][desc_act]") {
  const Problem p = make_problem(256, 1024, 64, 2);
  for (const bool sym : {true, false}) {
    SolverOptions o;
    o.bits = 4;
    o.group_size = 32;
    o.sym = sym;
    o.desc_act = true;
    o.fp16_scales = true;
    const SolverResult r = fasterquant(p.w, p.h, o, "act_order");
    const int64_t out = 64, in = 256, ngroups = 8;
    REQUIRE(r.scales.sizes() == at::IntArrayRef({out, ngroups}));
    // g_idx = rank of the column in descending diag(H) order // 32: non-trivial, 32 columns a group.
    const at::Tensor perm = std::get<1>(at::sort(p.h.diagonal(), true, 0, true));
    const at::Tensor expect_gidx = (at::argsort(perm) / 32).to(at::kInt);
    CHECK(at::equal(r.g_idx, expect_gidx));
    CHECK(!at::equal(r.g_idx, (at::arange(in) / 32).to(at::kInt)));
    CHECK(at::equal(at::bincount(r.g_idx.to(at::kLong)), at::full({ngroups}, 32, at::kLong)));
    // Codes/scales/zeros with g_idx give the solver's dequantized weight bit for bit.
    CHECK(at::equal(dequantize(r.codes, r.scales, r.zeros, r.g_idx), r.dequantized));
    // fp16 scales survive the fp16 `scales` tensor exactly.
    CHECK(at::equal(r.scales.to(at::kHalf).to(at::kFloat), r.scales));
    // Pack (v1 for sym, v2 for asym) and unpack as a loader does.
    const auto qweight = qf::pack::gptq_pack_qweight(ints(r.codes), out, in, 4);
    const auto qzeros = qf::pack::gptq_pack_qzeros(ints(r.zeros), out, ngroups, 4, sym);
    CHECK(qf::pack::gptq_unpack_qweight(qweight, out, in, 4) == ints(r.codes));
    CHECK(qf::pack::gptq_unpack_qzeros(qzeros, out, ngroups, 4, sym) == ints(r.zeros));
    const at::Tensor codes_back =
        at::from_blob(const_cast<int32_t*>(qf::pack::gptq_unpack_qweight(qweight, out, in, 4).data()), {out, in}, at::kInt)
            .clone();
    const at::Tensor zeros_back =
        at::from_blob(const_cast<int32_t*>(qf::pack::gptq_unpack_qzeros(qzeros, out, ngroups, 4, sym).data()),
                      {out, ngroups}, at::kInt)
            .clone();
    const at::Tensor scales_back = r.scales.t().contiguous().to(at::kHalf).to(at::kFloat).t();
    CHECK(at::equal(dequantize(codes_back, scales_back, zeros_back, r.g_idx), r.dequantized));
    if (sym) CHECK(static_cast<uint32_t>(qzeros[0]) == 0x77777777u);
    // Act-order still beats RTN.
    CHECK(layer_objective(p.w, r.dequantized, p.x) < layer_objective(p.w, sdk_rtn(p.w, 4, 32, sym), p.x));
  }
}

// ------------------------------------------------------------------------------------------ (d)
TEST_CASE("static_groups: params from the original weight, trivial g_idx even with desc_act", "[gptq][static]") {
  const Problem p = make_problem(256, 1024, 48, 3);
  SolverOptions o;
  o.bits = 4;
  o.group_size = 64;
  o.sym = false;
  o.static_groups = true;
  const QuantizerConfig qc{4, false, false};
  for (const bool act : {false, true}) {
    o.desc_act = act;
    const SolverResult r = fasterquant(p.w, p.h, o, "static");
    CHECK(at::equal(r.g_idx, (at::arange(256) / 64).to(at::kInt)));
    for (int64_t g = 0; g < 4; ++g) {
      const auto params = find_params(p.w.slice(1, g * 64, (g + 1) * 64), qc);
      CHECK(at::equal(r.scales.select(1, g), params.first));
      CHECK(at::equal(r.zeros.select(1, g), params.second.to(at::kInt)));
    }
    CHECK(at::equal(dequantize(r.codes, r.scales, r.zeros, r.g_idx), r.dequantized));
    CHECK(layer_objective(p.w, r.dequantized, p.x) < layer_objective(p.w, sdk_rtn(p.w, 4, 64, false), p.x));
  }
}

// ------------------------------------------------------------------------------------------ (e)
TEST_CASE("dead columns (zero Hessian diagonal) quantize to zero without NaN", "[gptq][dead]") {
  Problem p = make_problem(128, 512, 32, 4);
  const std::vector<int64_t> dead = {5, 17, 100};
  for (int64_t d : dead) p.x.select(1, d).zero_();
  p.h = hessian_from_gram(p.x.t().matmul(p.x), 512);
  for (const bool act : {false, true})
    for (const int64_t gs : {int64_t{-1}, int64_t{32}}) {
      SolverOptions o;
      o.bits = 4;
      o.group_size = gs;
      o.desc_act = act;
      const SolverResult r = fasterquant(p.w, p.h, o, "dead");
      CHECK(r.dead_columns == 3);
      CHECK(at::isfinite(r.dequantized).all().item<bool>());
      for (int64_t d : dead) CHECK(at::equal(r.dequantized.select(1, d), at::zeros({32})));
      if (gs == -1) {  // Q2: per-channel params from W before the dead columns are zeroed
        const auto params = find_params(p.w, QuantizerConfig{4, true, false});
        CHECK(at::equal(r.scales.select(1, 0), params.first));
      }
      CHECK(at::equal(dequantize(r.codes, r.scales, r.zeros, r.g_idx), r.dequantized));
    }
}

// ------------------------------------------------------------------------------------------ (f)
TEST_CASE("a non-positive-definite Hessian retries with more damping, a hopeless one names the linear",
          "[gptq][damping]") {
  const Problem p = make_problem(64, 2048, 16, 5);
  SolverOptions o;
  o.bits = 4;
  o.group_size = 32;
  o.damp_percent = 0.01;
  o.damp_auto_increment = 0.01;
  // Shift the spectrum down by 3% of the mean diagonal: indefinite until damp_percent passes ~0.03.
  const float mean = p.h.diagonal().mean().item<float>();
  const at::Tensor bad = p.h - at::eye(64) * (0.03f * mean + at::linalg_eigvalsh(p.h).min().item<float>());
  REQUIRE(at::linalg_eigvalsh(bad).min().item<float>() < 0);
  const SolverResult r = fasterquant(p.w, bad, o, "model.layers.0.self_attn.q_proj");
  CHECK(r.damp_retries >= 1);
  CHECK(r.damp_percent_used > 0.025);
  CHECK(at::isfinite(r.dequantized).all().item<bool>());

  const at::Tensor hopeless = -at::eye(64);
  CHECK_THROWS_AS(fasterquant(p.w, hopeless, o, "model.layers.3.mlp.down_proj"), CholeskyError);
  CHECK_THROWS_WITH(fasterquant(p.w, hopeless, o, "model.layers.3.mlp.down_proj"),
                    Catch::Contains("model.layers.3.mlp.down_proj") && Catch::Contains("not positive definite"));
  at::Tensor nan_h = p.h.clone();
  nan_h[3][3].fill_(NAN);
  CHECK_THROWS_WITH(fasterquant(p.w, nan_h, o, "model.layers.4.mlp.up_proj"),
                    Catch::Contains("model.layers.4.mlp.up_proj"));
  SolverOptions no_retry = o;
  no_retry.damp_auto_increment = 0.0;
  CHECK_THROWS_AS(fasterquant(p.w, bad, no_retry, "x"), CholeskyError);
}

TEST_CASE("Quantizer formulas: round half to even, Q4, ragged last group", "[gptq][quantizer]") {
  const QuantizerConfig sym4{4, true, false};
  // Q4: a non-negative group keeps xmin = 0 -> scale = xmax / maxq, zero = 8.
  auto p = params_from_range(0.2f, 0.5f, sym4);
  CHECK(p.scale == Approx(0.5f / 15));
  CHECK(p.zero == 8.0f);
  CHECK(quantize_code(0.5f, p, 15) == 15);  // clipped to 7 * scale
  // all-zero group -> [-1, 1]
  p = params_from_range(0.0f, 0.0f, QuantizerConfig{4, false, false});
  CHECK(p.scale == Approx(2.0f / 15));
  // ties go to even
  CHECK(quantize_code(2.5f, ScaleZero{1.0f, 0.0f}, 15) == 2);
  CHECK(quantize_code(3.5f, ScaleZero{1.0f, 0.0f}, 15) == 4);
  // ragged last group (in = 80, g = 32 -> 3 groups, the last of 16)
  const Problem pr = make_problem(80, 256, 8, 6);
  SolverOptions o;
  o.bits = 8;
  o.group_size = 32;
  const SolverResult r = fasterquant(pr.w, pr.h, o, "ragged");
  CHECK(r.scales.size(1) == 3);
  CHECK(at::equal(dequantize(r.codes, r.scales, r.zeros, r.g_idx), r.dequantized));
  // bits 2 and 3 run through the solver (3 is only refused at packing)
  for (const int bits : {2, 3}) {
    o.bits = bits;
    const SolverResult q = fasterquant(pr.w, pr.h, o, "low");
    CHECK(q.codes.max().item<int>() <= (1 << bits) - 1);
  }
  CHECK_THROWS(qf::pack::gptq_pack_qweight(std::vector<int32_t>(64 * 8, 1), 8, 64, 3));
}
