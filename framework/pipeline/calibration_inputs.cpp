#include "pipeline/calibration_inputs.hpp"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "calib/calibration.hpp"
#include "calib/data_dirs.hpp"
#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace qf::pipeline {
namespace fs = std::filesystem;

model::ComputeOptions compute_options(const std::string& recipe_dtype, const std::string& checkpoint_dtype) {
  const model::AutoDtype choice = model::choose_compute_dtype(recipe_dtype, checkpoint_dtype);
  spdlog::info("layer forwards in {} ({})", choice.dtype == at::kBFloat16 ? "bf16" : "fp32", choice.why);
  model::ComputeOptions o;
  o.dtype = choice.dtype;
  return o;
}

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// One warning that says it all: what was missing and where we looked, what is used instead, and
// how to provide the missing data so the recipe's own dataset is used next time.
std::string fallback_warning(const calib::DatasetNotFound& missing, const std::string& fallback,
                             const calib::CalibrationSet& used) {
  const std::string name = "\"" + missing.dataset() + "\"";
  std::vector<std::string> dirs;
  for (const auto& d : missing.dirs()) dirs.push_back(d.string());
  std::string msg = "calibration dataset " + name + " not found (looked for " + joined(missing.file_names()) +
                    (dirs.empty() ? "" : " in " + joined(dirs)) + "); calibrating on the recipe's fallback_dataset \"" +
                    fallback + "\" instead: " + used.source.string() + " (results may differ slightly from " + name +
                    "). ";
  if (dirs.empty() || missing.file_names().empty()) return msg + "To calibrate on " + name + ", create that file.";
  const std::string wanted = missing.file_names().front();
  return msg + "To calibrate on " + name + ", put " + wanted +
         " in one of those folders, point QUANTFORGE_DATA_DIR or --dataset-path at the folder that holds it, or pass "
         "--dataset /path/to/" + fs::path(wanted).filename().string() + ".";
}

}  // namespace

at::Tensor calibration_ids(const QuantizeRequest& request, const qf_method_requirements& req,
                           const model::ModelConfig& config) {
  calib::CalibrationSpec spec;
  if (req.num_samples > 0) spec.num_samples = req.num_samples;
  if (req.seqlen > 0) spec.seqlen = req.seqlen;
  if (const auto& c = request.recipe.calibration) {
    spec.dataset = c->dataset;
    spec.dataset_path = c->dataset_path;
    spec.num_samples = c->num_samples;
    spec.seqlen = c->seqlen;
    spec.seed = c->seed;
  }
  if (config.max_position_embeddings > 0 && spec.seqlen > config.max_position_embeddings) {
    spdlog::info("calibration seqlen {} capped at the model's max_position_embeddings {}", spec.seqlen,
                 config.max_position_embeddings);
    spec.seqlen = config.max_position_embeddings;
  }
  if (spec.num_samples <= 0 || spec.seqlen <= 1) throw Error("calibration needs num_samples > 0 and seqlen > 1");
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(request.model_dir);
  calib::CalibrationSet set;
  try {
    set = calib::load_calibration(spec, tokenizer);
  } catch (const calib::DatasetNotFound& missing) {
    const auto& c = request.recipe.calibration;
    // A dataset the user named on the command line is never replaced.
    if (!c || c->fallback_dataset.empty() || request.recipe.dataset_from_cli) throw;
    spec.dataset = c->fallback_dataset;
    try {
      set = calib::load_calibration(spec, tokenizer);
    } catch (const calib::DatasetNotFound& also_missing) {
      throw Error(std::string(missing.what()) + "\nThe recipe's fallback_dataset \"" + c->fallback_dataset +
                  "\" was not found either: " + also_missing.what());
    }
    spdlog::warn("{}", fallback_warning(missing, c->fallback_dataset, set));
  }
  spdlog::info("calibration data: {}", set.description);
  at::Tensor ids = at::empty({static_cast<int64_t>(set.blocks.size()), spec.seqlen}, at::kLong);
  for (size_t b = 0; b < set.blocks.size(); ++b) {
    QF_ASSERT(static_cast<int64_t>(set.blocks[b].size()) == spec.seqlen, "calibration block of the wrong length");
    for (int64_t t = 0; t < spec.seqlen; ++t) ids[static_cast<int64_t>(b)][t] = set.blocks[b][static_cast<size_t>(t)];
  }
  return ids;
}

void warn_unused_calibration_flags(const recipe::Recipe& recipe, const std::string& method) {
  if (recipe.calibration_flags.empty()) return;
  std::string flags;
  for (const auto& f : recipe.calibration_flags) flags += (flags.empty() ? "" : ", ") + f;
  spdlog::warn("method '{}' uses no calibration data: ignoring {}", method, flags);
}

int64_t calibration_chunk(const at::Tensor& ids, const model::ModelConfig& config) {
  // fp32 bytes per block: residual, normed input, q/k/v, MLP intermediates and attention scores.
  const double T = static_cast<double>(ids.size(1));
  const double per_block = 4.0 * (T * (6.0 * static_cast<double>(config.hidden_size) +
                                       3.0 * static_cast<double>(config.intermediate_size)) +
                                  static_cast<double>(config.num_heads) * T * T);
  const double budget = 768.0 * 1024 * 1024;
  return std::max<int64_t>(1, static_cast<int64_t>(budget / per_block));
}

}  // namespace qf::pipeline
