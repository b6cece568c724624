#include "ct_linear.hpp"

#include <cstring>
#include <stdexcept>

#include "ct_pack.hpp"
#include "quantforge/half.hpp"

namespace qf::ct {

std::vector<uint8_t> convert_scales(const std::vector<uint16_t>& half_bits, sdk::st::DType dtype) {
  using sdk::st::DType;
  std::vector<uint8_t> out(half_bits.size() * sdk::st::dtype_size(dtype));
  for (size_t i = 0; i < half_bits.size(); ++i) {
    switch (dtype) {
      case DType::F16: std::memcpy(out.data() + 2 * i, &half_bits[i], 2); break;
      case DType::BF16: {
        const uint16_t b = sdk::float_to_bf16_bits(sdk::half_bits_to_float(half_bits[i]));
        std::memcpy(out.data() + 2 * i, &b, 2);
        break;
      }
      case DType::F32: {
        const float f = sdk::half_bits_to_float(half_bits[i]);
        std::memcpy(out.data() + 4 * i, &f, 4);
        break;
      }
      default: throw std::logic_error("weight_scale is written as F16, BF16 or F32 only (a bug in the caller)");
    }
  }
  return out;
}

CompressedLinear compress_linear(const sdk::grid::LinearGrid& g, const LinearLayout& layout) {
  CompressedLinear c;
  c.out = g.out;
  c.in = g.in;
  c.groups = g.groups;
  c.weight_packed = pack_rows(g.codes, g.out, g.in, g.bits);
  c.weight_scale = convert_scales(g.scales, layout.scale_dtype);
  c.weight_shape = {g.out, g.in};
  const int32_t mid = 1 << (g.bits - 1);
  if (layout.symmetric) {
    for (size_t k = 0; k < g.zeros.size(); ++k)
      if (g.zeros[k] != mid)
        throw std::invalid_argument(g.prefix + ": the method declared a symmetric grid, but output channel " +
                                    std::to_string(static_cast<int64_t>(k) / g.groups) + " has zero point " +
                                    std::to_string(g.zeros[k]) + " instead of " + std::to_string(mid) +
                                    " (a bug in the method; quantize with sym = false to write zero points)");
  } else {
    c.weight_zero_point = pack_columns(g.zeros, g.out, g.groups, g.bits);
  }
  if (layout.act_order) c.weight_g_idx = g.g_idx;
  return c;
}

}  // namespace qf::ct
