// GPTQ fasterquant (docs/gptq.md#solver), the internal C++ API of the gptq plugin on ATen tensors.
//
// fp32 throughout, as the references (IST gptq.py, AutoGPTQ, GPTQModel): the Hessian, Cholesky,
// inverse, the in-block updates and the lazy batch GEMMs. Two places use fp64 where the references
// would lose nothing but we would: the layer loss is accumulated in double (the references sum an
// fp32 [rows, cols] tensor pairwise; a plain running sum in fp32 would not be as accurate), and
// damp_percent and its increments are kept in double before the final fp32 multiply.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gptq_quantizer.hpp"

namespace qf::gptq {

struct SolverOptions {
  int bits = 8;                     // 2..8 (the solver handles 3; packing does not)
  int64_t group_size = 128;         // -1: one group per row (per channel)
  bool sym = true;
  bool desc_act = false;            // act-order: columns by descending diag(H), stable
  bool static_groups = false;       // group params from the original weight, before any update
  double damp_percent = 0.1;        // damp = damp_percent * mean(diag(H))
  double damp_auto_increment = 0.01;// added to damp_percent after a Cholesky failure (0: no retry)
  int max_damp_retries = 100;       // and retried while damp_percent < 1
  int64_t blocksize = 128;
  bool fp16_scales = false;         // see QuantizerConfig::fp16_scales
};

struct SolverResult {
  at::Tensor codes;        // int32 [rows, cols], original column order
  at::Tensor scales;       // fp32 [rows, ngroups]
  at::Tensor zeros;        // int32 [rows, ngroups]
  at::Tensor g_idx;        // int32 [cols]
  at::Tensor dequantized;  // fp32 [rows, cols] = scales[:, g_idx] * (codes - zeros[:, g_idx])
  // Σ (w - q)^2 / d^2 / 2 over all weights (the references' `Losses` sum; IST logs it as "error").
  // With H = 2/N X X^T this is the OBS estimate of ||(W - Q) X||^2 / N (N = H's normaliser).
  double loss = 0.0;
  double damp_percent_used = 0.0;
  int damp_retries = 0;
  int64_t dead_columns = 0;
  double seconds_factor = 0.0;  // damping + Cholesky -> inverse -> upper Cholesky (incl. retries)
  double seconds_blocks = 0.0;  // the column loop: in-block updates and lazy batch GEMMs
};

// The Hessian still was not positive definite at the last damping the options allow.
class CholeskyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// H = 2 / tokens * gram, fp32 (gram = Σ x x^T over the calibration tokens, docs/gptq.md#hessian).
at::Tensor hessian_from_gram(const at::Tensor& gram, int64_t tokens);

// Quantizes `weight` ([rows, cols], Linear layout [out, in]) with the Hessian `hessian` ([cols, cols]).
// Neither input is modified. `name` appears in log lines and errors. Throws CholeskyError after the
// damping retries are spent, std::invalid_argument for unusable options or shapes.
SolverResult fasterquant(const at::Tensor& weight, const at::Tensor& hessian, const SolverOptions& options,
                         const std::string& name = "linear");

// Round to nearest with the same grid and outputs (GPTQ with H = I: no error feedback).
SolverResult rtn(const at::Tensor& weight, const SolverOptions& options);

// ||(W - Q) X^T||_F^2 for X [tokens, cols] (test/bench helper, computed in fp64).
double layer_objective(const at::Tensor& weight, const at::Tensor& quantized, const at::Tensor& x);

}  // namespace qf::gptq
