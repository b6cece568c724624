// apply_rope_ (rope.hpp): the rotation in one pass over q or k, in place, with the roundings of
// transformers' eager ops (x*cos, rotate_half(x)*sin and their sum each rounded to the dtype).
// Compiled with -ffp-contract=off: a fused multiply-add would skip the product's rounding.
#include <cstdint>
#include <vector>

#include <ATen/Parallel.h>

#include "common/error.hpp"
#include "model/bf16_bits.hpp"
#include "model/rope.hpp"

namespace qf::model {
namespace {

struct Bf16Ops {
  using Elem = uint16_t;  // bf16 bits
  static float load(Elem v) { return sdk::bf16_bits_to_float(v); }
  static Elem store(float f) { return sdk::float_to_bf16_bits(f); }
  static float round(float f) { return round_to_bf16(f); }
};
struct F32Ops {
  using Elem = float;
  static float load(float v) { return v; }
  static float store(float f) { return f; }
  static float round(float f) { return f; }
};

template <class Ops>
void rotate(const at::Tensor& x, const std::vector<float>& cos, const std::vector<float>& sin, int64_t rot) {
  using E = typename Ops::Elem;
  E* base = static_cast<E*>(x.data_ptr());
  const int64_t b = x.size(0), h = x.size(1), t = x.size(2), half = rot / 2;
  const int64_t s0 = x.stride(0), s1 = x.stride(1), s2 = x.stride(2);
  at::parallel_for(0, b * h * t, 256, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const int64_t pos = row % t, head = (row / t) % h, batch = row / (t * h);
      E* p = base + batch * s0 + head * s1 + pos * s2;
      const float* c = cos.data() + pos * rot;
      const float* s = sin.data() + pos * rot;
      // Iteration i reads and writes only elements i and i + half, so in place needs no copy.
      for (int64_t i = 0; i < half; ++i) {
        const float a = Ops::load(p[i]), bb = Ops::load(p[i + half]);
        p[i] = Ops::store(Ops::round(a * c[i]) + Ops::round(-bb * s[i]));
        p[i + half] = Ops::store(Ops::round(bb * c[i + half]) + Ops::round(a * s[i + half]));
      }
    }
  });
}

std::vector<float> as_floats(const at::Tensor& table) {
  const at::Tensor f = table.to(at::kFloat).contiguous();
  return {f.data_ptr<float>(), f.data_ptr<float>() + f.numel()};
}

}  // namespace

void apply_rope_(const at::Tensor& x, const RopeTables& t) {
  const int64_t rot = t.cos.size(-1);
  QF_ASSERT(x.dim() == 4 && x.stride(3) == 1 && rot % 2 == 0 && rot <= x.size(3) && t.cos.size(0) >= x.size(2) &&
                t.cos.scalar_type() == x.scalar_type(),
            "apply_rope_: x must be [B, H, T, D] with a contiguous last dimension and tables of its dtype");
  const std::vector<float> cos = as_floats(t.cos), sin = as_floats(t.sin);
  if (x.scalar_type() == at::kBFloat16) return rotate<Bf16Ops>(x, cos, sin, rot);
  QF_ASSERT(x.scalar_type() == at::kFloat, "apply_rope_: bf16 or fp32 only");
  rotate<F32Ops>(x, cos, sin, rot);
}

}  // namespace qf::model
