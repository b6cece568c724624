// Clipping search (docs/awq.md#clip-search): per (output row, group) shrink of the symmetric clamp range.
#include <limits>
#include <stdexcept>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "awq_core.hpp"

namespace qf::awq {

bool clip_eligible(const std::string& short_name) {
  for (const char* k : {"q_", "k_", "query", "key", "Wqkv"})
    if (short_name.find(k) != std::string::npos) return false;
  return true;
}

at::Tensor clip_token_sample(const at::Tensor& x, int64_t n_sample_token, int64_t first_row, int64_t all_rows) {
  const int64_t n = x.size(0);
  const int64_t step = std::max<int64_t>(1, (all_rows < 0 ? n : all_rows) / n_sample_token);
  const int64_t first = (step - first_row % step) % step;  // the first local row at a multiple of step
  // Always a copy: the caller releases the captured input (which x may borrow) and then divides the
  // sample by the scales in place.
  return x.slice(0, std::min(first, n), n, step).to(at::kFloat, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

namespace {

// Per-group partial outputs: out[g, t, o] = sum_k x[t, g*G + k] * w[o, g*G + k]. AutoAWQ computes
// (X * w).sum(-1) elementwise; a batched matmul gives the same sums up to rounding.
at::Tensor group_outputs(const at::Tensor& xg /* [ng, n, G] */, const at::Tensor& w, int64_t group_size) {
  const int64_t out = w.size(0), ng = w.size(1) / group_size;
  const at::Tensor wg = w.reshape({out, ng, group_size}).permute({1, 2, 0});  // [ng, G, out]
  return at::bmm(xg, wg);                                                     // [ng, n, out]
}

at::Tensor grouped_input(const at::Tensor& x_sample, int64_t group_size) {
  const int64_t n = x_sample.size(0), ng = x_sample.size(1) / group_size;
  return x_sample.reshape({n, ng, group_size}).permute({1, 0, 2}).contiguous();  // [ng, n, G]
}

}  // namespace

at::Tensor clip_group_errors(const at::Tensor& w, const at::Tensor& w_candidate, const at::Tensor& x_sample,
                             int64_t group_size) {
  const at::Tensor xg = grouped_input(x_sample, group_size);
  const at::Tensor d = group_outputs(xg, w_candidate, group_size) - group_outputs(xg, w, group_size);
  return d.pow(2).mean(1).t().contiguous();  // [out, ng]
}

namespace {

// Per-group second moments of the sampled input, [ng, G, G] = X_g^T X_g / n.
at::Tensor group_grams(const at::Tensor& xg /* [ng, n, G] */) {
  return at::bmm(xg.transpose(1, 2), xg).div_(static_cast<double>(xg.size(1)));
}

// err[o, g] = mean over tokens of (x_g . dw[o, g])^2 = dw_og^T Gram_g dw_og, for dw [rows, in].
at::Tensor group_quadratic_errors(const at::Tensor& dw, const at::Tensor& grams, int64_t group_size) {
  const int64_t rows = dw.size(0), ng = dw.size(1) / group_size;
  const at::Tensor d = dw.reshape({rows, ng, group_size}).permute({1, 0, 2});  // [ng, rows, G]
  return (at::bmm(d, grams) * d).sum(-1).t();                                  // [rows, ng]
}

}  // namespace

at::Tensor search_clip(const at::Tensor& w, const at::Tensor& x_sample, const QuantConfig& cfg, int n_grid,
                       double max_shrink) {
  if (w.size(1) % cfg.group_size != 0)
    throw std::invalid_argument("search_clip: in_features not a multiple of the group");
  if (x_sample.size(1) != w.size(1)) throw std::invalid_argument("search_clip: input width differs from in_features");
  // AutoAWQ evaluates each candidate as ((X_g w_q)-(X_g w))^2 averaged over the sampled tokens;
  // by linearity that is a quadratic form in the weight error with the group's input Gram matrix,
  // which costs G instead of n (512) multiply-adds per weight and needs no [ng, n, out] temporaries
  // (clip_group_errors keeps the direct form; the tests hold the two together).
  const at::Tensor grams = group_grams(grouped_input(x_sample.to(at::kFloat), cfg.group_size));
  return search_clip_with_grams(w, grams, cfg, n_grid, max_shrink);
}

at::Tensor clip_sample_gram_sums(const at::Tensor& x_sample, int64_t group_size) {
  const at::Tensor xg = grouped_input(x_sample.to(at::kFloat), group_size);
  return at::bmm(xg.transpose(1, 2), xg);
}

at::Tensor search_clip_with_grams(const at::Tensor& w_in, const at::Tensor& grams, const QuantConfig& cfg,
                                  int n_grid, double max_shrink) {
  const at::Tensor w = w_in.to(at::kFloat).contiguous();
  const int64_t out = w.size(0), in = w.size(1), G = cfg.group_size;
  if (in % G != 0) throw std::invalid_argument("search_clip: in_features not a multiple of the group");
  const int64_t ng = in / G;
  if (grams.dim() != 3 || grams.size(0) != ng || grams.size(1) != G || grams.size(2) != G)
    throw std::invalid_argument("search_clip: group Gram matrices must be [in/G, G, G]");
  const at::Tensor wr = w.reshape({out, ng, G});
  const at::Tensor org_max = wr.abs().amax({2}, true);  // [out, ng, 1]
  at::Tensor best_max = org_max.clone();
  at::Tensor min_errs = at::full({out, ng, 1}, std::numeric_limits<float>::infinity(), w.options());
  const int steps = static_cast<int>(max_shrink * n_grid);
  for (int i_s = 0; i_s < steps; ++i_s) {
    const at::Tensor max_val = org_max * (1.0 - static_cast<double>(i_s) / n_grid);
    const at::Tensor cur_w = at::max(at::min(wr, max_val), -max_val).reshape({out, in});
    const at::Tensor dw = pseudo_quantize_fp32(cur_w, cfg).sub_(w);
    const at::Tensor err = group_quadratic_errors(dw, grams, G).reshape({out, ng, 1});
    const at::Tensor better = err < min_errs;
    min_errs = at::where(better, err, min_errs);
    best_max = at::where(better, max_val, best_max);
  }
  return best_max.reshape({out, ng});
}

at::Tensor apply_clip(const at::Tensor& w, const at::Tensor& max_val, int64_t group_size) {
  const int64_t out = w.size(0), in = w.size(1), ng = in / group_size;
  const at::Tensor mv = max_val.reshape({out, ng, 1});
  const at::Tensor wr = w.to(at::kFloat).reshape({out, ng, group_size});
  return at::max(at::min(wr, mv), -mv).reshape({out, in});
}

}  // namespace qf::awq
