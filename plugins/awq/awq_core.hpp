#pragma once
// AWQ algorithm core (docs/awq.md: scale search, clip search, pseudo-quantization) on ATen tensors,
// independent of the plugin ABI so it can be unit-tested and benchmarked directly. All tensors are
// CPU fp32 unless stated otherwise.
//
// Numerics: AutoAWQ runs the search in the model dtype (fp16/bf16 on CUDA) and the final
// quantization in fp16. Here the search runs in fp32 (our host's compute dtype is fp32 or bf16 and
// fp16 CPU kernels are missing in LibTorch 1.13); the final quantization emulates fp16 exactly
// (each elementwise result rounded to fp16, as CUDA's fp32 "opmath" + fp16 store does), so the
// stored fp16 scales, codes and zeros are what AutoAWQ would compute from the same fp16 weight.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace qf::awq {

struct QuantConfig {
  int w_bit = 4;
  int64_t group_size = 128;
  bool zero_point = true;
};

// ------------------------------------------------- pseudo-quantization (docs/awq.md#pseudo-quantization)

// Search-time fake quantization in fp32: returns Q(w) dequantized, same shape as w ([rows, in],
// in % group_size == 0).
at::Tensor pseudo_quantize_fp32(const at::Tensor& w, const QuantConfig& cfg);

// The final quantization, AutoAWQ's op sequence on fp16 values (w is rounded to fp16 first).
struct QuantizedWeight {
  at::Tensor w_dq;    // fp32 [out, in], values exactly representable in fp16
  at::Tensor scales;  // fp32 [out, in/G], fp16-representable
  at::Tensor zeros;   // int32 [out, in/G]
  at::Tensor codes;   // int32 [out, in]
};
QuantizedWeight pseudo_quantize_fp16(const at::Tensor& w, const QuantConfig& cfg, const std::string& name);

// Throws std::invalid_argument naming `name` when in_features is not a multiple of the group.
void check_group_divisible(int64_t in_features, int64_t group_size, const std::string& name);

// ------------------------------------------------------------------ scale search (docs/awq.md#scale-search)

// Weight statistic: per-input-channel mean of the group-normalised |W| over all rows of all `weights`.
at::Tensor weight_mean(const std::vector<at::Tensor>& weights, int64_t group_size);
// Activation statistic: per-channel mean of |x| over the rows of x [tokens, C], fp32 chunks summed in double.
at::Tensor activation_mean(const at::Tensor& x);
// Its numerator: the per-channel sums of |x| in double (summed across ranks in a distributed run).
at::Tensor activation_abs_sum(const at::Tensor& x);
// Grid point: the normalised scales for grid ratio `ratio` (inf/nan replaced by 1).
at::Tensor grid_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, double ratio, bool duo_scaling);
// Q(W·diag(s))/diag(s) for one weight (what the search evaluates).
at::Tensor scaled_fake_quant(const at::Tensor& w, const at::Tensor& s, const QuantConfig& cfg);

// Loss of one candidate: gets Q(W_j s)/s for every weight of the group, returns the MSE of the
// inspected module's output against the original output.
using CandidateLoss = std::function<double(const std::vector<at::Tensor>& candidate_weights)>;

struct ScaleSearchResult {
  at::Tensor scales;           // [C] fp32
  double best_ratio = -1.0;
  double best_loss = 0.0;
  std::vector<double> losses;  // per grid point
};
ScaleSearchResult search_scales(const std::vector<at::Tensor>& weights, const at::Tensor& x_mean,
                                const at::Tensor& w_mean, const CandidateLoss& loss, int n_grid, bool duo_scaling,
                                const QuantConfig& cfg);

// Search loss: MSE over all elements, accumulated in double, chunked. Both tensors' values are
// first clamped to the finite fp32 range, as AutoAWQ clamps module outputs: an output that overflowed
// to inf on both sides then differs by 0, not inf - inf = NaN. (One side's overflow still gives an
// inf loss where the fp32 square overflows.) NaN stays NaN.
double mse(const at::Tensor& reference, const at::Tensor& candidate);
// Running sum of squared differences, values clamped as for mse (for chunked module forwards).
double sum_squared_diff(const at::Tensor& reference, const at::Tensor& candidate);

// Exact Gram-matrix loss for a single Linear: ||X dW^T||_F^2 / (tokens*out) with gram = X^T X,
// dW = candidate - original. Equals mse(X W^T, X Wc^T) up to rounding (bias cancels).
double gram_loss(const at::Tensor& candidate, const at::Tensor& original, const at::Tensor& gram, int64_t tokens);
// X^T X in fp32, accumulated over row chunks of x.
at::Tensor gram_matrix(const at::Tensor& x);

// ------------------------------------------------------------------ apply scales (docs/awq.md#applying-scales)
// In-place on the given tensors (toy models / tests; the plugin uses the host's scale_previous_op).
void apply_scale_norm(at::Tensor& norm_weight, at::Tensor* norm_bias, const std::vector<at::Tensor*>& linears,
                      const at::Tensor& s);
void apply_scale_linear(at::Tensor& prev_weight, at::Tensor* prev_bias, const std::vector<at::Tensor*>& linears,
                        const at::Tensor& s);

// ------------------------------------------------------------------ clip search (docs/awq.md#clip-search)

// Whether AutoAWQ clips this linear (names with q_, k_, query, key, Wqkv are skipped).
bool clip_eligible(const std::string& short_name);
// Rows 0, step, 2*step, ... of x with step = max(1, tokens / n_sample_token) (copied). When x holds
// rows first_row.. of all_rows (one rank's share), step comes from all_rows and the rows kept are
// those whose overall index is a multiple of it, so the ranks' samples together are the whole's.
at::Tensor clip_token_sample(const at::Tensor& x, int64_t n_sample_token = 512, int64_t first_row = 0,
                             int64_t all_rows = -1);
// Per (output row, group) clipping threshold [out, in/G]; x_sample [n, in].
at::Tensor search_clip(const at::Tensor& w, const at::Tensor& x_sample, const QuantConfig& cfg, int n_grid = 20,
                       double max_shrink = 0.5);
// The same search from the sample's per-group second moments [in/G, G, G] (X_g^T X_g / n), for
// samples split across ranks; clip_sample_gram_sums gives one share's X_g^T X_g.
at::Tensor clip_sample_gram_sums(const at::Tensor& x_sample, int64_t group_size);
at::Tensor search_clip_with_grams(const at::Tensor& w, const at::Tensor& grams, const QuantConfig& cfg,
                                  int n_grid = 20, double max_shrink = 0.5);
// Clip loss (mean over tokens of the squared per-group partial-output error) per (row, group) for
// a given clipped weight; exposed for tests.
at::Tensor clip_group_errors(const at::Tensor& w, const at::Tensor& w_candidate, const at::Tensor& x_sample,
                             int64_t group_size);
// clamp(W, -max_val, max_val) per (row, group).
at::Tensor apply_clip(const at::Tensor& w, const at::Tensor& max_val, int64_t group_size);

// ------------------------------------------------------------------ GEMM packing (docs/awq.md#gemm-packing)

// AutoAWQ WQLinear_GEMM buffers of one Linear, ready to emit.
struct GemmTensors {
  int64_t in = 0, out = 0, ngroups = 0;
  std::vector<int32_t> qweight;  // [in, out/8]
  std::vector<int32_t> qzeros;   // [in/G, out/8]
  std::vector<uint16_t> scales;  // fp16 bits [in/G, out]
};
// Throws std::invalid_argument naming `name` when out_features is not a multiple of 8.
GemmTensors pack_gemm(const QuantizedWeight& q, const std::string& name);

}  // namespace qf::awq
