// rms_norm_bf16 (norm.hpp): transformers' RMSNorm in one pass per row - fp32 statistics, the
// normalised row rounded to bf16, then the weight product rounded again - instead of ATen's six
// passes over memory with a temporary each. Compiled with -ffp-contract=off so every product rounds
// as the eager ops' do.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>

#include "common/error.hpp"
#include "model/bf16_bits.hpp"
#include "model/norm.hpp"

namespace qf::model {
namespace {

// Offset (in elements) of row `r` of x viewed as [rows, last], for any strides of the leading dims.
int64_t row_offset(const at::Tensor& x, int64_t r) {
  int64_t off = 0;
  for (int64_t d = x.dim() - 2; d >= 0; --d) {
    off += (r % x.size(d)) * x.stride(d);
    r /= x.size(d);
  }
  return off;
}

void normalise_rows(const at::Tensor& x, const at::Tensor& weight, float eps, at::Tensor& out) {
  using E = uint16_t;  // bf16 bits
  const int64_t n = x.size(-1), rows = x.numel() / n;
  const E* in = reinterpret_cast<const E*>(x.data_ptr());
  E* dst = reinterpret_cast<E*>(out.data_ptr());
  const at::Tensor wf = weight.to(at::kFloat).contiguous();
  const float* w = wf.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t first, int64_t last) {
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t r = first; r < last; ++r) {
      const E* src = in + row_offset(x, r);
      // Eight independent double accumulators: a single chain of dependent adds ran at a quarter
      // of the speed of ATen's passes.
      constexpr int64_t kLanes = 8;
      double lanes[kLanes] = {};
      int64_t i = 0;
      for (; i + kLanes <= n; i += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) {
          const float v = sdk::bf16_bits_to_float(src[i + l]);
          row[static_cast<size_t>(i + l)] = v;
          lanes[l] += static_cast<double>(v * v);
        }
      for (; i < n; ++i) {
        const float v = sdk::bf16_bits_to_float(src[i]);
        row[static_cast<size_t>(i)] = v;
        lanes[0] += static_cast<double>(v * v);
      }
      double sum = 0.0;
      for (double l : lanes) sum += l;
      const float mean = static_cast<float>(sum) / static_cast<float>(n);
      const float inv = 1.0f / std::sqrt(mean + eps);
      E* o = dst + r * n;
      for (int64_t j = 0; j < n; ++j)
        o[j] = sdk::float_to_bf16_bits(w[j] * round_to_bf16(row[static_cast<size_t>(j)] * inv));
    }
  });
}

}  // namespace

at::Tensor rms_norm_bf16(const at::Tensor& x, const at::Tensor& weight, double eps) {
  QF_ASSERT(x.dim() >= 1 && x.stride(-1) == 1 && weight.dim() == 1 && weight.size(0) == x.size(-1) &&
                x.scalar_type() == at::kBFloat16 && weight.scalar_type() == at::kBFloat16,
            "rms_norm_bf16: bf16 x [..., n] with a contiguous last dimension and a bf16 weight [n]");
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::Contiguous));
  if (x.numel() == 0) return out;
  normalise_rows(x, weight, static_cast<float>(eps), out);
  return out;
}

}  // namespace qf::model
