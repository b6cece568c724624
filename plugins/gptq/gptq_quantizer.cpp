#include "gptq_quantizer.hpp"

#include <ATen/Functions.h>

#include <stdexcept>

namespace qf::gptq {

std::pair<at::Tensor, at::Tensor> find_params(const at::Tensor& x_in, const QuantizerConfig& cfg) {
  if (x_in.dim() != 2) throw std::invalid_argument("find_params expects a [rows, k] tensor");
  const at::Tensor x = x_in.to(at::kFloat).contiguous();
  const int64_t rows = x.size(0), k = x.size(1);
  at::Tensor scale = at::empty({rows}, at::kFloat), zero = at::empty({rows}, at::kFloat);
  const float* px = x.data_ptr<float>();
  float* ps = scale.data_ptr<float>();
  float* pz = zero.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t j = 0; j < k; ++j) {
      lo = std::min(lo, px[r * k + j]);
      hi = std::max(hi, px[r * k + j]);
    }
    const ScaleZero p = params_from_range(lo, hi, cfg);
    ps[r] = p.scale;
    pz[r] = p.zero;
  }
  return {scale, zero};
}

at::Tensor quantize_codes(const at::Tensor& x_in, const at::Tensor& scale_in, const at::Tensor& zero_in,
                          const QuantizerConfig& cfg) {
  if (x_in.dim() != 2) throw std::invalid_argument("quantize_codes expects a [rows, k] tensor");
  const at::Tensor x = x_in.to(at::kFloat).contiguous();
  const int64_t rows = x.size(0), k = x.size(1);
  const at::Tensor s = (scale_in.dim() == 1 ? scale_in.unsqueeze(1) : scale_in).to(at::kFloat).expand({rows, k}).contiguous();
  const at::Tensor z = (zero_in.dim() == 1 ? zero_in.unsqueeze(1) : zero_in).to(at::kFloat).expand({rows, k}).contiguous();
  at::Tensor codes = at::empty({rows, k}, at::kInt);
  const float* px = x.data_ptr<float>();
  const float* pscale = s.data_ptr<float>();
  const float* pzero = z.data_ptr<float>();
  int32_t* pc = codes.data_ptr<int32_t>();
  for (int64_t i = 0; i < rows * k; ++i) pc[i] = quantize_code(px[i], ScaleZero{pscale[i], pzero[i]}, cfg.maxq());
  return codes;
}

at::Tensor dequantize(const at::Tensor& codes_in, const at::Tensor& scales_in, const at::Tensor& zeros_in,
                      const at::Tensor& g_idx_in) {
  const at::Tensor codes = codes_in.to(at::kInt).contiguous();
  const at::Tensor scales = scales_in.to(at::kFloat).contiguous();
  const at::Tensor zeros = zeros_in.to(at::kFloat).contiguous();
  const at::Tensor g_idx = g_idx_in.to(at::kLong).contiguous();
  const int64_t rows = codes.size(0), cols = codes.size(1), ngroups = scales.size(1);
  if (g_idx.numel() != cols || scales.size(0) != rows || zeros.sizes() != scales.sizes())
    throw std::invalid_argument("dequantize: shapes of codes, scales, zeros and g_idx disagree");
  at::Tensor out = at::empty({rows, cols}, at::kFloat);
  const int32_t* pc = codes.data_ptr<int32_t>();
  const float* ps = scales.data_ptr<float>();
  const float* pz = zeros.data_ptr<float>();
  const int64_t* pg = g_idx.data_ptr<int64_t>();
  float* po = out.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t g = pg[c];
      if (g < 0 || g >= ngroups) throw std::invalid_argument("dequantize: g_idx out of range");
      po[r * cols + c] = dequantize_code(pc[r * cols + c], ScaleZero{ps[r * ngroups + g], pz[r * ngroups + g]});
    }
  return out;
}

}  // namespace qf::gptq
