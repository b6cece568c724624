#include "gptq_solver.hpp"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>
#include <vector>

#include "quantforge/plugin.hpp"

namespace qf::gptq {
namespace {

void validate(const at::Tensor& weight, const at::Tensor& hessian, const SolverOptions& o, const std::string& name) {
  if (weight.dim() != 2) throw std::invalid_argument(name + ": weight must be 2-D [out, in]");
  const int64_t cols = weight.size(1);
  if (hessian.dim() != 2 || hessian.size(0) != cols || hessian.size(1) != cols)
    throw std::invalid_argument(name + ": Hessian must be [in, in] = [" + std::to_string(cols) + ", " +
                                std::to_string(cols) + "]");
  if (o.bits < 2 || o.bits > 8) throw std::invalid_argument("gptq: bits must be in 2..8, got " + std::to_string(o.bits));
  if (o.group_size == 0 || o.group_size < -1)
    throw std::invalid_argument("gptq: group_size must be positive or -1, got " + std::to_string(o.group_size));
  if (o.blocksize <= 0) throw std::invalid_argument("gptq: blocksize must be positive");
  if (!(o.damp_percent >= 0.0)) throw std::invalid_argument("gptq: damp_percent must be >= 0");
  if (!(o.damp_auto_increment >= 0.0)) throw std::invalid_argument("gptq: damp_auto_increment must be >= 0");
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Upper Cholesky factor U of H^-1 (H^-1 = U^T U) of the damped Hessian: lower Cholesky of H ->
// cholesky_inverse -> upper Cholesky (IST gptq.py L98-103), all fp32. A failure of either
// factorisation retries with damp_percent + damp_auto_increment.
at::Tensor inverse_cholesky(const at::Tensor& H, const SolverOptions& o, const std::string& name, SolverResult& res) {
  const float diag_mean = H.diagonal().mean().item<float>();
  double pct = o.damp_percent;
  for (int attempt = 0;; ++attempt) {
    at::Tensor Hd = H.clone();
    Hd.diagonal().add_(static_cast<float>(pct) * diag_mean);
    at::Tensor L, info;
    std::tie(L, info) = at::linalg_cholesky_ex(Hd, /*upper=*/false, /*check_errors=*/false);
    const char* failed_step = "cholesky(H)";
    if (info.item<int>() == 0) {
      at::Tensor Hinv = at::cholesky_inverse(L, /*upper=*/false);
      at::Tensor U;
      std::tie(U, info) = at::linalg_cholesky_ex(Hinv, /*upper=*/true, /*check_errors=*/false);
      if (info.item<int>() == 0 && at::isfinite(U).all().item<bool>()) {
        res.damp_percent_used = pct;
        res.damp_retries = attempt;
        return U.contiguous();
      }
      failed_step = "cholesky(H^-1)";
    }
    const double next = pct + o.damp_auto_increment;
    if (o.damp_auto_increment <= 0.0 || attempt >= o.max_damp_retries || next >= 1.0)
      throw CholeskyError(name + ": the Hessian is not positive definite (" + failed_step + " failed) even with damp_percent=" +
                          fmt(pct) + " after " + std::to_string(attempt) +
                          " retries; raise damp_percent, use more calibration data, or allow rtn_fallback");
    qf::sdk::log(QF_LOG_WARN, name + ": " + failed_step + " failed with damp_percent=" + fmt(pct) +
                                  "; retrying with damp_percent=" + fmt(next));
    pct = next;
  }
}

}  // namespace

at::Tensor hessian_from_gram(const at::Tensor& gram, int64_t tokens) {
  if (tokens <= 0) throw std::invalid_argument("gptq: no calibration tokens reached this linear");
  return gram.to(at::kFloat) * static_cast<float>(2.0 / static_cast<double>(tokens));
}

SolverResult fasterquant(const at::Tensor& weight, const at::Tensor& hessian, const SolverOptions& o,
                         const std::string& name) {
  validate(weight, hessian, o, name);
  SolverResult res;
  const QuantizerConfig qc{o.bits, o.sym, o.fp16_scales};
  const int32_t maxq = qc.maxq();
  at::Tensor W = weight.to(at::kFloat).contiguous().clone();
  at::Tensor H = hessian.to(at::kFloat).contiguous().clone();
  const int64_t rows = W.size(0), cols = W.size(1);
  if (!at::isfinite(W).all().item<bool>()) throw std::invalid_argument(name + ": the weight has NaN or Inf values");
  if (!at::isfinite(H).all().item<bool>())
    throw CholeskyError(name + ": the Hessian has NaN or Inf values (the layer's inputs overflowed?)");

  const bool grouped = o.group_size != -1;
  const int64_t gs = grouped ? o.group_size : cols;
  const int64_t ngroups = (cols + gs - 1) / gs;

  // Current params per row. Per channel (Q2): from the full row, before the dead columns are zeroed.
  std::vector<ScaleZero> cur(static_cast<size_t>(rows));
  at::Tensor out_scale = at::empty({ngroups, rows}, at::kFloat);  // transposed while filling
  at::Tensor out_zero = at::empty({ngroups, rows}, at::kFloat);
  if (!grouped) {
    auto p = find_params(W, qc);
    const float* ps = p.first.data_ptr<float>();
    const float* pz = p.second.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) cur[r] = ScaleZero{ps[r], pz[r]};
    out_scale[0].copy_(p.first);
    out_zero[0].copy_(p.second);
  }

  // Dead columns: H[i,i] = 1, W[:, i] = 0 (IST L77-79).
  const at::Tensor dead = H.diagonal() == 0;
  res.dead_columns = dead.sum().item<int64_t>();
  if (res.dead_columns > 0) {
    H.diagonal().masked_fill_(dead, 1.0f);
    W.masked_fill_(dead.unsqueeze(0), 0.0f);
  }

  // Static groups (Q3): params of the original-order, dead-zeroed weight, no error feedback.
  std::vector<ScaleZero> statics;
  if (o.static_groups && grouped) {
    statics.resize(static_cast<size_t>(ngroups * rows));
    for (int64_t g = 0; g < ngroups; ++g) {
      auto p = find_params(W.slice(1, g * gs, std::min(cols, (g + 1) * gs)), qc);
      const float* ps = p.first.data_ptr<float>();
      const float* pz = p.second.data_ptr<float>();
      for (int64_t r = 0; r < rows; ++r) statics[g * rows + r] = ScaleZero{ps[r], pz[r]};
      out_scale[g].copy_(p.first);
      out_zero[g].copy_(p.second);
    }
  }

  // Act-order: stable descending sort of diag(H) (ties, e.g. dead columns, keep ascending index).
  at::Tensor perm, invperm;
  if (o.desc_act) {
    perm = std::get<1>(at::sort(H.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    invperm = at::argsort(perm);
    W = W.index_select(1, perm).contiguous();
    H = H.index_select(0, perm).index_select(1, perm).contiguous();
  }
  const std::vector<int64_t> perm_v = o.desc_act ? std::vector<int64_t>(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + cols)
                                                 : std::vector<int64_t>();

  auto t0 = std::chrono::steady_clock::now();
  const at::Tensor U = inverse_cholesky(H, o, name, res);
  res.seconds_factor = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t0 = std::chrono::steady_clock::now();
  H = at::Tensor();  // free early: [cols, cols]
  const float* pu = U.data_ptr<float>();

  // Working layout: transposed, so that a column of W is a contiguous vector of `rows` floats.
  at::Tensor Wt = W.t().contiguous();
  W = at::Tensor();
  at::Tensor Qt = at::empty({cols, rows}, at::kInt);
  at::Tensor Dt = at::empty({cols, rows}, at::kFloat);
  float* pw = Wt.data_ptr<float>();
  int32_t* pq = Qt.data_ptr<int32_t>();
  float* pd = Dt.data_ptr<float>();
  float* pos = out_scale.data_ptr<float>();
  float* poz = out_zero.data_ptr<float>();

  // Rows are independent inside a block: split them into one chunk per thread.
  const int64_t nchunks = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), rows / 16));
  std::vector<double> loss_parts(static_cast<size_t>(nchunks), 0.0);
  const int64_t bs = o.blocksize;
  at::Tensor W1t = at::empty({std::min(bs, cols), rows}, at::kFloat);
  at::Tensor E1t = at::empty({std::min(bs, cols), rows}, at::kFloat);

  for (int64_t i1 = 0; i1 < cols; i1 += bs) {
    const int64_t i2 = std::min(i1 + bs, cols), count = i2 - i1;
    at::Tensor W1 = W1t.narrow(0, 0, count), E1 = E1t.narrow(0, 0, count);
    W1.copy_(Wt.narrow(0, i1, count));  // the global W keeps the pre-block values (quirk Q1)
    float* pw1 = W1.data_ptr<float>();
    float* pe1 = E1.data_ptr<float>();

    at::parallel_for(0, nchunks, 1, [&](int64_t kb, int64_t ke) {
      std::vector<float> lo, hi;
      for (int64_t k = kb; k < ke; ++k) {
        const int64_t r0 = rows * k / nchunks, r1 = rows * (k + 1) / nchunks, n = r1 - r0;
        double loss = 0.0;
        for (int64_t i = 0; i < count; ++i) {
          const int64_t c = i1 + i;
          if (grouped) {
            if (!o.static_groups) {
              if (c % gs == 0) {  // find_params(W[:, c:c+gs]) on the GLOBAL W (quirk Q1)
                lo.assign(static_cast<size_t>(n), 0.0f);
                hi.assign(static_cast<size_t>(n), 0.0f);
                for (int64_t cc = c; cc < std::min(c + gs, cols); ++cc) {
                  const float* col = pw + cc * rows + r0;
                  for (int64_t r = 0; r < n; ++r) {
                    lo[r] = std::min(lo[r], col[r]);
                    hi[r] = std::max(hi[r], col[r]);
                  }
                }
                const int64_t g = c / gs;
                for (int64_t r = 0; r < n; ++r) {
                  cur[r0 + r] = params_from_range(lo[r], hi[r], qc);
                  pos[g * rows + r0 + r] = cur[r0 + r].scale;
                  poz[g * rows + r0 + r] = cur[r0 + r].zero;
                }
              }
            } else {
              const int64_t g = (o.desc_act ? perm_v[c] : c) / gs;
              for (int64_t r = r0; r < r1; ++r) cur[r] = statics[g * rows + r];
            }
          }
          const float d = pu[c * cols + c];
          const float* w = pw1 + i * rows;
          float* e = pe1 + i * rows;
          int32_t* qc_out = pq + c * rows;
          float* dq_out = pd + c * rows;
          for (int64_t r = r0; r < r1; ++r) {
            const int32_t q = quantize_code(w[r], cur[r], maxq);
            const float dq = dequantize_code(q, cur[r]);
            qc_out[r] = q;
            dq_out[r] = dq;
            const float diff = w[r] - dq;
            e[r] = diff / d;
            loss += static_cast<double>(diff) * diff / (static_cast<double>(d) * d);
          }
          // W1[:, i+1:] -= err ⊗ U1[i, i+1:]  (column i itself is done)
          const float* urow = pu + c * cols;
          for (int64_t j = i + 1; j < count; ++j) {
            const float u = urow[i1 + j];
            float* wj = pw1 + j * rows;
            for (int64_t r = r0; r < r1; ++r) wj[r] -= e[r] * u;
          }
        }
        loss_parts[k] += loss;
      }
    });

    // Lazy batch update: W[:, i2:] -= Err1 @ U[i1:i2, i2:]  ->  Wt[i2:] -= U[i1:i2, i2:]^T @ Err1t
    if (i2 < cols) Wt.narrow(0, i2, cols - i2).addmm_(U.narrow(0, i1, count).narrow(1, i2, cols - i2).t(), E1, 1, -1);
  }

  res.seconds_blocks = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double loss = 0.0;
  for (double l : loss_parts) loss += l;
  res.loss = loss / 2.0;

  at::Tensor codes = Qt.t(), deq = Dt.t();
  std::vector<int32_t> g_idx(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c)
    g_idx[c] = static_cast<int32_t>(((o.static_groups && o.desc_act && grouped) ? perm_v[c] : c) / gs);
  at::Tensor gi = at::from_blob(g_idx.data(), {cols}, at::kInt).clone();
  if (o.desc_act) {
    codes = codes.index_select(1, invperm);
    deq = deq.index_select(1, invperm);
    gi = gi.index_select(0, invperm);
  }
  res.codes = codes.contiguous();
  res.dequantized = deq.contiguous();
  res.g_idx = gi.contiguous();
  res.scales = out_scale.t().contiguous();
  res.zeros = out_zero.t().to(at::kInt).contiguous();
  return res;
}

SolverResult rtn(const at::Tensor& weight, const SolverOptions& options) {
  SolverOptions o = options;
  o.desc_act = false;
  o.damp_auto_increment = 0.0;
  return fasterquant(weight, at::eye(weight.size(1), at::kFloat), o, "rtn");
}

double layer_objective(const at::Tensor& weight, const at::Tensor& quantized, const at::Tensor& x) {
  const at::Tensor d = (weight.to(at::kDouble) - quantized.to(at::kDouble));
  return d.matmul(x.to(at::kDouble).t()).pow(2).sum().item<double>();
}

}  // namespace qf::gptq
