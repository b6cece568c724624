#include "model/rope.hpp"

#include <cmath>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

namespace qf::model {
namespace {

// transformers _compute_llama3_parameters: long wavelengths slowed by `factor`, short ones kept,
// the band in between interpolated.
at::Tensor llama3_schedule(const at::Tensor& inv_freq, const RopeConfig& r) {
  const double old_len = static_cast<double>(r.original_max_position_embeddings);
  const double low_wavelen = old_len / r.low_freq_factor;
  const double high_wavelen = old_len / r.high_freq_factor;
  at::Tensor wavelen = 2 * M_PI / inv_freq;
  at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / r.factor, inv_freq);
  at::Tensor smooth = (old_len / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  at::Tensor smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return at::where(medium, smoothed, scaled);
}

at::Tensor base_inv_freq(double theta, int64_t dim) {
  // Same op order as transformers: int64 arange -> float, / dim, base ** that, 1 / that.
  at::Tensor exps = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  return 1.0 / at::pow(theta, exps);
}

}  // namespace

at::Tensor rope_inv_freq(const ModelConfig& c, int64_t seq_len) {
  const RopeConfig& r = c.rope;
  const int64_t dim = c.rotary_dim();
  switch (r.type) {
    case RopeType::Linear: return base_inv_freq(r.theta, dim) / r.factor;
    case RopeType::Llama3: return llama3_schedule(base_inv_freq(r.theta, dim), r);
    case RopeType::Dynamic: {
      // Dynamic NTK: the base grows once the sequence exceeds the original context.
      const auto orig = static_cast<double>(r.original_max_position_embeddings);
      if (static_cast<double>(seq_len) <= orig) return base_inv_freq(r.theta, dim);
      const double d = static_cast<double>(dim);
      double base = r.theta * std::pow(r.factor * static_cast<double>(seq_len) / orig - (r.factor - 1), d / (d - 2));
      return base_inv_freq(base, dim);
    }
    case RopeType::None:
    case RopeType::Default: break;
  }
  return base_inv_freq(r.theta, dim);
}

RopeTables rope_tables(const ModelConfig& c, int64_t seq_len, at::ScalarType dtype) {
  at::Tensor inv = rope_inv_freq(c, seq_len);
  at::Tensor pos = at::arange(seq_len, at::kFloat);
  at::Tensor freqs = at::outer(pos, inv);             // [seq, rot/2], fp32 like transformers
  at::Tensor emb = at::cat({freqs, freqs}, -1);       // [seq, rot]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& t) {
  const int64_t rot = t.cos.size(-1);
  const int64_t d = x.size(-1);
  at::Tensor xr = rot == d ? x : x.narrow(-1, 0, rot);
  at::Tensor x1 = xr.narrow(-1, 0, rot / 2);
  at::Tensor x2 = xr.narrow(-1, rot / 2, rot / 2);
  at::Tensor rotated = at::cat({-x2, x1}, -1);
  at::Tensor out = xr * t.cos + rotated * t.sin;
  return rot == d ? out : at::cat({out, x.narrow(-1, rot, d - rot)}, -1);
}

}  // namespace qf::model
