#pragma once
// `quantforge quantize`: runs a recipe's method plugin over every decoder layer and streams the
// result through the recipe's format plugins into the layout's folder, all or nothing.
#include <atomic>
#include <filesystem>
#include <optional>
#include <vector>

#include "host/plugin_registry.hpp"
#include "recipe/recipe.hpp"

namespace qf::pipeline {

struct QuantizeRequest {
  std::filesystem::path model_dir;
  recipe::Recipe recipe;  // CLI overrides already applied
  std::optional<std::filesystem::path> output;  // --output: standalone layout
  const std::atomic<bool>* cancel = nullptr;    // set asynchronously (SIGINT) to stop the run
};

struct QuantizeSummary {
  std::filesystem::path destination;
  std::vector<std::filesystem::path> files;
  uint64_t input_weight_bytes = 0;
  uint64_t output_weight_bytes = 0;
  int64_t layers = 0;
  double seconds = 0;
};

// Throws qf::Error with one clear message on any user error or plugin failure; nothing is left at
// the destination then (the staging folder is removed).
QuantizeSummary quantize(const QuantizeRequest& request, const host::PluginRegistry& registry);

// The folder a run will write to, without running it (for placing quantize.log before the run).
std::filesystem::path planned_destination(const QuantizeRequest& request, const host::PluginRegistry& registry);

}  // namespace qf::pipeline
