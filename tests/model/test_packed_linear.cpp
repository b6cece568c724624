// PackedLinear (oneDNN bf16 matmul on a packed weight copy) against fp32 ATen references: plain
// and SiLU-gated epilogues, biases, odd row counts, 3-D inputs, and repacking after weights change
// in place (also through a row view, as the quantization hooks do).
#include "catch_torch.hpp"

#include "model/fused_linear.hpp"
#include "model/packed_linear.hpp"

using qf::model::FusedLinear;
using qf::model::PackedLinear;

namespace {

// Max |a - b| relative to max |b|: the bf16 output rounding (2^-9) dominates.
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return ((a.to(at::kFloat) - b.to(at::kFloat)).abs().max() / b.to(at::kFloat).abs().max()).item<double>();
}

at::Tensor bf(const at::Tensor& t) { return t.to(at::kBFloat16); }

// The fp32 reference of x W^T + b on the bf16-rounded operands.
at::Tensor ref_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  at::Tensor y = at::matmul(x.to(at::kFloat), w.to(at::kFloat).t());
  return b.defined() ? y + b.to(at::kFloat) : y;
}

}  // namespace

TEST_CASE("packed bf16 linear matches the fp32 reference for any row count, with and without bias", "[packed]") {
  at::manual_seed(11);
  const at::Tensor w = bf(at::randn({96, 128}) * 0.1), b = bf(at::randn({96}));
  const PackedLinear packed;
  for (int64_t rows : {1, 7, 64, 513}) {
    const at::Tensor x = bf(at::randn({rows, 128}));
    REQUIRE(PackedLinear::applicable(x, w));
    CAPTURE(rows);
    const at::Tensor y = packed.forward(x, w, at::Tensor());
    CHECK(y.scalar_type() == at::kBFloat16);
    CHECK(y.sizes() == at::IntArrayRef({rows, 96}));
    CHECK(rel_err(y, ref_linear(x, w, at::Tensor())) < 8e-3);
    CHECK(rel_err(packed.forward(x, w, b), ref_linear(x, w, b)) < 8e-3);
  }
  // [B, T, in] keeps its leading dimensions; a non-contiguous input is fine.
  const at::Tensor x3 = bf(at::randn({2, 5, 128}));
  const at::Tensor y3 = packed.forward(x3, w, b);
  CHECK(y3.sizes() == at::IntArrayRef({2, 5, 96}));
  CHECK(rel_err(y3, ref_linear(x3, w, b)) < 8e-3);
  const at::Tensor xt = bf(at::randn({128, 9})).t();
  CHECK(rel_err(packed.forward(xt, w, b), ref_linear(xt, w, b)) < 8e-3);
}

TEST_CASE("fused SiLU-gate epilogue equals silu(x W^T + b) * multiplier", "[packed]") {
  at::manual_seed(12);
  const at::Tensor w = bf(at::randn({256, 64}) * 0.2), b = bf(at::randn({256}) * 0.1);
  const at::Tensor x = bf(at::randn({33, 64})), m = bf(at::randn({33, 256}));
  const at::Tensor expect = at::silu(ref_linear(x, w, b)) * m.to(at::kFloat);
  const PackedLinear packed;
  CHECK(rel_err(packed.forward_silu_mul(x, w, b, m), expect) < 8e-3);
  CHECK(rel_err(packed.forward_silu_mul(x, w, at::Tensor(), m), at::silu(ref_linear(x, w, {})) * m.to(at::kFloat)) <
        8e-3);
}

TEST_CASE("packed weights follow in-place edits, also through a row view", "[packed]") {
  at::manual_seed(13);
  FusedLinear f;
  f.weight = bf(at::randn({48, 32}) * 0.1);
  f.names = {"gate", "up"};
  f.rows = {24, 24};
  f.packed_members.resize(2);
  const at::Tensor x = bf(at::randn({10, 32}));
  const at::Tensor before = f.forward(x);
  CHECK(rel_err(before, ref_linear(x, f.weight, {})) < 8e-3);

  f.member_weight(1).mul_(-3.0);  // what a hook's set_weight / scale does: write through a view
  const at::Tensor after = f.forward(x);
  CHECK(rel_err(after, ref_linear(x, f.weight, {})) < 8e-3);
  CHECK(rel_err(after.narrow(1, 0, 24), before.narrow(1, 0, 24)) == 0.0);  // untouched rows unchanged
  CHECK(rel_err(f.forward_member(1, x), ref_linear(x, f.member_weight(1), {})) < 8e-3);

  f.member_weight(0).copy_(bf(at::randn({24, 32})));
  const at::Tensor up = f.forward_member(1, x);
  CHECK(rel_err(f.forward_member_silu_mul(0, x, up),
                at::silu(ref_linear(x, f.member_weight(0), {})) * up.to(at::kFloat)) < 8e-3);

  f.weight = bf(at::randn({48, 32}));  // a new tensor altogether
  CHECK(rel_err(f.forward(x), ref_linear(x, f.weight, {})) < 8e-3);
}

TEST_CASE("fp32 tensors are not for the packed path; FusedLinear falls back to ATen", "[packed]") {
  const at::Tensor w = at::randn({8, 16}), x = at::randn({4, 16});
  CHECK_FALSE(PackedLinear::applicable(x, w));
  CHECK_FALSE(PackedLinear::applicable(bf(x), w));
  FusedLinear f;
  f.weight = w;
  f.names = {"o"};
  f.rows = {8};
  f.packed_members.resize(1);
  CHECK(at::equal(f.forward(x), at::linear(x, w)));
  CHECK(at::equal(f.forward_member_silu_mul(0, x, x.narrow(1, 0, 8)), at::silu(at::linear(x, w)) * x.narrow(1, 0, 8)));
}
