// Scale search (docs/awq.md#scale-search) and scale application (docs/awq.md#applying-scales).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include "awq_core.hpp"

namespace qf::awq {

namespace {
constexpr int64_t kRowChunk = 8192;  // bounds temporaries of the reductions over tokens

// x limited to [-FLT_MAX, FLT_MAX] as at::clamp does it: infinities become the largest finite
// value, NaN stays NaN (both comparisons are false). Selects, so the loops vectorise.
inline float finite_clamp(float x) {
  constexpr float kMax = std::numeric_limits<float>::max();
  x = x > kMax ? kMax : x;
  return x < -kMax ? -kMax : x;
}
}

at::Tensor weight_mean(const std::vector<at::Tensor>& weights, int64_t group_size) {
  if (weights.empty()) throw std::invalid_argument("weight_mean: no weights");
  const at::Tensor w = at::cat(weights, 0).to(at::kFloat);
  const int64_t rows = w.size(0), cols = w.size(1);
  if (cols % group_size != 0) throw std::invalid_argument("weight_mean: in_features not a multiple of the group");
  const at::Tensor a = w.reshape({-1, group_size}).abs();
  const at::Tensor ws = a / (a.amax({1}, true) + 1e-6);
  return ws.reshape({rows, cols}).mean(0);
}

at::Tensor activation_abs_sum(const at::Tensor& x) {
  const int64_t n = x.size(0);
  at::Tensor sum = at::zeros({x.size(1)}, x.options().dtype(at::kDouble));
  for (int64_t i = 0; i < n; i += kRowChunk)
    sum += x.narrow(0, i, std::min(kRowChunk, n - i)).abs().sum(0, false, at::kFloat).to(at::kDouble);
  return sum;
}

at::Tensor activation_mean(const at::Tensor& x) {
  return (activation_abs_sum(x) / static_cast<double>(x.size(0))).to(at::kFloat);
}

at::Tensor grid_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, double ratio, bool duo_scaling) {
  at::Tensor s;
  if (duo_scaling)
    s = (at::pow(x_mean, ratio) / (at::pow(w_mean, 1.0 - ratio) + 1e-4)).clamp_min(1e-4);
  else
    s = at::pow(x_mean, ratio).clamp_min(1e-4).view({-1});
  s = s / (s.max() * s.min()).sqrt();
  s.masked_fill_(at::isinf(s), 1.0);
  s.masked_fill_(at::isnan(s), 1.0);
  return s;
}

at::Tensor scaled_fake_quant(const at::Tensor& w, const at::Tensor& s, const QuantConfig& cfg) {
  const at::Tensor sv = s.view({1, -1});
  return pseudo_quantize_fp32(w * sv, cfg) / sv;
}

ScaleSearchResult search_scales(const std::vector<at::Tensor>& weights, const at::Tensor& x_mean,
                                const at::Tensor& w_mean, const CandidateLoss& loss, int n_grid, bool duo_scaling,
                                const QuantConfig& cfg) {
  if (n_grid < 1) throw std::invalid_argument("n_grid must be at least 1");
  ScaleSearchResult r;
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < n_grid; ++i) {
    const double ratio = static_cast<double>(i) / static_cast<double>(n_grid);
    const at::Tensor s = grid_scales(x_mean, w_mean, ratio, duo_scaling);
    std::vector<at::Tensor> cand;
    cand.reserve(weights.size());
    for (const auto& w : weights) cand.push_back(scaled_fake_quant(w, s, cfg));
    const double l = loss(cand);
    r.losses.push_back(l);
    if (l < best) {  // strict: ties keep the earlier ratio; NaN never wins
      best = l;
      r.best_ratio = ratio;
      r.scales = s.clone();
    }
  }
  if (r.best_ratio < 0) throw std::runtime_error("AWQ scale search: every grid point gave a NaN/inf loss");
  r.best_loss = best;
  return r;
}

namespace {

// Sum over blocks of 4096 elements of (a - b)^2, each block in 16 fp32 lanes, the blocks in double
// in a fixed order, so the result does not depend on the thread count. With Clamp, values are
// first limited to the finite range (finite_clamp).
template <bool Clamp>
double blocked_sum_squared_diff(const float* pa, const float* pb, int64_t n) {
  auto value = [](float x) { return Clamp ? finite_clamp(x) : x; };
  constexpr int64_t kBlock = 4096, kLanes = 16;
  const int64_t nblocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(nblocks), 0.0);
  at::parallel_for(0, nblocks, 16, [&](int64_t first, int64_t last) {
    for (int64_t blk = first; blk < last; ++blk) {
      const int64_t lo = blk * kBlock, hi = std::min(n, lo + kBlock);
      float lanes[kLanes] = {};
      int64_t i = lo;
      for (; i + kLanes <= hi; i += kLanes)
        for (int64_t l = 0; l < kLanes; ++l) {
          const float d = value(pa[i + l]) - value(pb[i + l]);
          lanes[l] += d * d;
        }
      double s = 0.0;
      for (float v : lanes) s += v;
      for (; i < hi; ++i) {
        const double d = static_cast<double>(value(pa[i])) - value(pb[i]);
        s += d * d;
      }
      partial[static_cast<size_t>(blk)] = s;
    }
  });
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace

double sum_squared_diff(const at::Tensor& reference, const at::Tensor& candidate) {
  if (reference.numel() != candidate.numel())
    throw std::invalid_argument("sum_squared_diff: tensors differ in size");
  // One pass over both tensors (the search calls this on [tokens, hidden] outputs 40 times a
  // layer; ATen's sub/pow/sum-to-double chain made five passes and took ~0.45 s each). The clamp
  // to the finite range is needed only where a value is inf or NaN, and then the plain sum is not
  // finite either: only then is it summed again with the clamp (which, in the plugin's portable
  // SSE2 build, doubles the pass's time). Finite inputs are unchanged by the clamp, so both ways
  // give the same bits; a separate clamp_ of every candidate output cost one more pass.
  const at::Tensor a = reference.to(at::kFloat).contiguous(), b = candidate.to(at::kFloat).contiguous();
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  const double plain = blocked_sum_squared_diff<false>(pa, pb, a.numel());
  return std::isfinite(plain) ? plain : blocked_sum_squared_diff<true>(pa, pb, a.numel());
}

double mse(const at::Tensor& reference, const at::Tensor& candidate) {
  return sum_squared_diff(reference, candidate) / static_cast<double>(reference.numel());
}

at::Tensor gram_matrix(const at::Tensor& x) {
  const int64_t n = x.size(0), c = x.size(1);
  at::Tensor g = at::zeros({c, c}, x.options().dtype(at::kFloat));
  for (int64_t i = 0; i < n; i += kRowChunk) {
    const at::Tensor xc = x.narrow(0, i, std::min(kRowChunk, n - i)).to(at::kFloat);
    g.addmm_(xc.t(), xc);
  }
  return g;
}

double gram_loss(const at::Tensor& candidate, const at::Tensor& original, const at::Tensor& gram, int64_t tokens) {
  const at::Tensor dw = candidate - original;  // [out, C]
  // tr(dW G dW^T) = sum((dW G) .* dW); the product is fp32, the final reduction double.
  const double sq = (at::mm(dw, gram) * dw).sum(at::IntArrayRef{}, false, at::kDouble).item<double>();
  return sq / (static_cast<double>(tokens) * static_cast<double>(candidate.size(0)));
}

void apply_scale_norm(at::Tensor& norm_weight, at::Tensor* norm_bias, const std::vector<at::Tensor*>& linears,
                      const at::Tensor& s) {
  norm_weight.div_(s);
  if (norm_bias && norm_bias->defined()) norm_bias->div_(s);
  for (at::Tensor* w : linears) w->mul_(s.view({1, -1}));
}

void apply_scale_linear(at::Tensor& prev_weight, at::Tensor* prev_bias, const std::vector<at::Tensor*>& linears,
                        const at::Tensor& s) {
  const int64_t n = s.size(0);
  prev_weight.narrow(0, prev_weight.size(0) - n, n).div_(s.view({-1, 1}));
  if (prev_bias && prev_bias->defined()) prev_bias->narrow(0, prev_bias->size(0) - n, n).div_(s);
  for (at::Tensor* w : linears) w->mul_(s.view({1, -1}));
}

}  // namespace qf::awq
