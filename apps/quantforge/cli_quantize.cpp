// `quantforge quantize MODEL_DIR [...]`
#include "cli_common.hpp"
#include "cli_distributed.hpp"
#include "cli_job.hpp"

namespace qf::cli {

int run_quantize(const std::vector<std::string>& args) {
  po::options_description desc("quantforge quantize MODEL_DIR [options]");
  desc.add_options()("help,h", "this help")("model", po::value<std::string>(), "model folder");
  add_job_options(desc);
  add_distributed_options(desc);
  add_recipe_options(desc);
  add_plugin_options(desc);
  po::variables_map vm;
  if (!parse_model_command(args, desc, vm, "quantize needs the model folder: quantforge quantize MODEL_DIR")) return kExitOk;

  start_console_logging(vm);
  host::PluginRegistry registry;
  load_plugins(vm, registry);
  pipeline::QuantizeRequest request;
  request.model_dir = vm["model"].as<std::string>();
  request.recipe = resolve_recipe(vm, registry);
  apply_job_options(vm, request);
  request.distributed = distributed_options(vm);
  return run_job(request, registry, vm);
}

}  // namespace qf::cli
