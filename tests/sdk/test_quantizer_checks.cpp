// The SDK's input checks every method can run before quantizing a weight: NaN/Inf values and
// ranges too wide for fp16 scales are errors naming the tensor and the first bad position.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "quantforge/quantizer.hpp"

namespace {

const char* kName = "model.layers.0.self_attn.q_proj.weight";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("NaN and Inf weights are counted and the first one located", "[quantizer][checks]") {
  const int64_t rows = 8, cols = 32;
  std::vector<float> w(rows * cols, 0.25f);
  CHECK(qf::quant::count_non_finite(w.data(), rows, cols).count == 0);
  CHECK(error_of([&] { qf::quant::require_finite_weight(w.data(), rows, cols, kName); }).empty());

  w[5 * cols + 17] = std::numeric_limits<float>::quiet_NaN();
  w[6 * cols + 0] = INFINITY;
  w[7 * cols + 31] = -INFINITY;
  const auto n = qf::quant::count_non_finite(w.data(), rows, cols);
  CHECK(n.count == 3);
  CHECK(n.first.row == 5);
  CHECK(n.first.column == 17);
  CHECK(error_of([&] { qf::quant::require_finite_weight(w.data(), rows, cols, kName); }) ==
        "model.layers.0.self_attn.q_proj.weight: the weight has 3 NaN or Inf values (first at row 5, column 17); "
        "the checkpoint is damaged: re-export it from a healthy copy");
  w[5 * cols + 17] = 1.0f;
  w[7 * cols + 31] = 1.0f;
  CHECK_THAT(error_of([&] { qf::quant::require_finite_weight(w.data(), rows, cols, kName); }),
             Catch::Contains("has 1 NaN or Inf value (first at row 6, column 0)"));
}

TEST_CASE("a group scale beyond fp16 names the largest weight", "[quantizer][checks]") {
  const int64_t rows = 4, cols = 16;
  std::vector<float> w(rows * cols, 0.5f);
  w[2 * cols + 9] = -1.5e6f;
  // 4-bit GPTQ params of row 2: range [-1.5e6, 0.5] / 15 -> 1e5, past the largest fp16 (65504).
  const auto p = qf::quant::gptq_find_params(w.data() + 2 * cols, cols, 4, false);
  const float rounded = qf::quant::round_to_half(p.scale);
  CHECK(std::isinf(rounded));
  CHECK(error_of([&] { qf::quant::require_fp16_scale(rounded, w.data(), rows, cols, kName); }) ==
        "model.layers.0.self_attn.q_proj.weight: max |w| is 1.5e+06 (row 2, column 9), so a group scale exceeds "
        "65504, the largest fp16 value: fp16 scales cannot hold it; the checkpoint is damaged or not meant for "
        "this format");
  // 8 bits: 1.5e6 / 255 ~ 5882 fits.
  const auto p8 = qf::quant::gptq_find_params(w.data() + 2 * cols, cols, 8, false);
  CHECK(error_of([&] {
          qf::quant::require_fp16_scale(qf::quant::round_to_half(p8.scale), w.data(), rows, cols, kName);
        }).empty());
  CHECK(error_of([&] { qf::quant::require_fp16_scale(65504.0f, w.data(), rows, cols, kName); }).empty());
}
