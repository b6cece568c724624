#include "pipeline/run_services.hpp"

#include "pipeline/calibrated_layer.hpp"

namespace qf::pipeline {

const void* Run::extension(const std::string& id) {
  if (id == QF_CALIBRATION_EXTENSION_ID && calibrated) return calibration_api();
  return nullptr;
}

}  // namespace qf::pipeline
