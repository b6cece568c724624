// The search-time quantizer runs the SDK's AutoAWQ rule (quantforge/quantizer.hpp) group by group.
// It must give bit for bit what AutoAWQ's tensor formula gives in fp32 (the form it had before),
// on every kind of group: mixed signs, one sign, constant, zero, tiny, huge, all bit widths.
#include "catch_torch_awq.hpp"

#include <cmath>

#include "awq_core.hpp"

using namespace qf::awq;

namespace {

// AutoAWQ's pseudo_quantize_tensor with zero point, as tensor operations in fp32.
at::Tensor tensor_formula(const at::Tensor& w, const QuantConfig& cfg) {
  const at::Tensor wg = w.to(at::kFloat).reshape({-1, cfg.group_size});
  const double max_int = std::pow(2.0, cfg.w_bit) - 1.0;
  const at::Tensor maxv = wg.amax({1}, true);
  const at::Tensor minv = wg.amin({1}, true);
  const at::Tensor scales = (maxv - minv).clamp_min(1e-5) / max_int;
  const at::Tensor zeros = (-at::round(minv / scales)).clamp_(0.0, max_int);
  return (at::round(wg / scales) + zeros).clamp_(0.0, max_int).sub_(zeros).mul_(scales).reshape(w.sizes());
}

// Equal values, and +0 where the formula gives either zero (the sign of a zero weight is noise).
bool same_bits(const at::Tensor& a, const at::Tensor& b) { return at::equal(a + 0.0f, b + 0.0f); }

}  // namespace

TEST_CASE("the fp32 search quantizer is AutoAWQ's tensor formula, bit for bit", "[awq][quant]") {
  at::manual_seed(11);
  for (int bits : {2, 3, 4, 8}) {
    for (int64_t group : {32, 128}) {
      const QuantConfig cfg{bits, group, true};
      INFO("w_bit " << bits << ", group " << group);
      std::vector<at::Tensor> cases = {
          at::randn({64, 4 * group}),
          at::randn({64, 4 * group}) * 1e-4,
          at::randn({64, 4 * group}) * 300.0,
          at::rand({64, 4 * group}),             // all positive
          -at::rand({64, 4 * group}) - 0.1,      // all negative
          at::full({8, 2 * group}, 0.25f),       // constant: the 1e-5 floor
          at::zeros({8, 2 * group}),
          at::randn({16, 2 * group}).round() / 8,  // many ties at .5 steps
      };
      for (const at::Tensor& w : cases) CHECK(same_bits(pseudo_quantize_fp32(w, cfg), tensor_formula(w, cfg)));
    }
  }
}
