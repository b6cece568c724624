// Gram accumulation (pipeline/gram.hpp): bf16 inputs through oneDNN and fp32 inputs through addmm
// both give an fp32 accumulation of X^T X, checked against a float64 reference; repeated calls add up.
#include <ATen/ATen.h>  // before Catch: c10 logging defines CHECK too

#include <catch2/catch.hpp>

#include "pipeline/gram.hpp"

namespace {

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  return ((a.to(at::kDouble) - b).norm() / b.norm()).item<double>();
}

}  // namespace

TEST_CASE("Gram accumulation of bf16 and fp32 inputs matches float64", "[pipeline][gram]") {
  at::manual_seed(11);
  const int64_t n = GENERATE(64, 200);
  const at::Tensor x1 = (at::randn({700, n}) * 3.0).to(at::kBFloat16), x2 = at::randn({333, n}).to(at::kBFloat16);
  // The reference sums the exact products of the bf16 values in float64.
  const at::Tensor d1 = x1.to(at::kDouble), d2 = x2.to(at::kDouble);
  const at::Tensor expect = d1.t().matmul(d1) + d2.t().matmul(d2);
  for (const auto dtype : {at::kBFloat16, at::kFloat}) {
    INFO("input dtype " << (dtype == at::kBFloat16 ? "bf16" : "fp32") << ", n " << n);
    at::Tensor gram = at::zeros({n, n}, at::kFloat);
    qf::pipeline::accumulate_gram(gram, x1.to(dtype));
    qf::pipeline::accumulate_gram(gram, x2.to(dtype));
    CHECK(gram.scalar_type() == at::kFloat);
    CHECK(relative_error(gram, expect) < 1e-6);
    CHECK(at::equal(gram, gram.t()));  // symmetric, as Cholesky needs
  }
  at::Tensor gram = at::ones({n, n}, at::kFloat);
  qf::pipeline::accumulate_gram(gram, x1.narrow(0, 0, 0));  // no tokens: unchanged
  CHECK(at::equal(gram, at::ones({n, n}, at::kFloat)));
}
