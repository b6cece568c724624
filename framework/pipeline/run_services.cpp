#include "pipeline/run_services.hpp"

#include "pipeline/calibrated_layer.hpp"

namespace qf::pipeline {

const void* Run::extension(const std::string& id) {
  if (id == QF_CALIBRATION_EXTENSION_ID && calibrated) return calibration_api();
  if (id == QF_SOURCE_MODEL_EXTENSION_ID) return host::source_model_api();
  return nullptr;
}

std::vector<int32_t> Run::encode(const std::string& text, bool add_special) {
  if (!tokenizer_) {
    if (!std::filesystem::is_regular_file(model_dir_ / "tokenizer.json"))
      throw host::ServiceError(QF_ERR_NOT_FOUND, "the model has no tokenizer.json in " + model_dir_.string());
    tokenizer_ = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_dir(model_dir_));
  }
  return tokenizer_->encode(text, add_special);
}

}  // namespace qf::pipeline
