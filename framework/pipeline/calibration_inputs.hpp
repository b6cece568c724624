#pragma once
// What a calibrated run feeds its first layer: the calibration token blocks (dataset, sample
// count, length and seed from the recipe, the CLI or the method), and how forwards are chunked.
#include <ATen/core/Tensor.h>

#include "model/compute.hpp"
#include "model/config.hpp"
#include "pipeline/quantize.hpp"
#include "quantforge/plugin.h"

namespace qf::pipeline {

// "auto" -> fp32 (exact statistics; see README for the measured bf16 trade-off), "fp32", "bf16".
// recipe_dtype "auto" (or empty) picks by checkpoint dtype and CPU (model::choose_compute_dtype).
model::ComputeOptions compute_options(const std::string& recipe_dtype, const std::string& checkpoint_dtype);

// [blocks, seqlen] int64 token ids. Logs which text was used. Throws qf::Error when the dataset
// cannot be found (naming every place looked) or is too short.
at::Tensor calibration_ids(const QuantizeRequest& request, const qf_method_requirements& req,
                           const model::ModelConfig& config);

// For a method that reads no calibration data: one warning naming the calibration flags given on
// the command line (recipe.calibration_flags), which the run ignores.
void warn_unused_calibration_flags(const recipe::Recipe& recipe, const std::string& method);

// Blocks per layer forward, so activations stay within a fixed memory budget.
int64_t calibration_chunk(const at::Tensor& ids, const model::ModelConfig& config);

}  // namespace qf::pipeline
