// `quantforge convert MODEL_DIR --format gguf [...]`: the model unquantized in another format.
#include "cli_common.hpp"
#include "cli_job.hpp"
#include "common/error.hpp"
#include "model/config.hpp"

namespace qf::cli {
namespace {

// --type auto: the dtype the model's config.json names; llama.cpp's converter default (f16) when it
// names none.
std::string resolved_type(const std::string& type, const std::filesystem::path& model_dir) {
  if (type != "auto") return type;
  const std::string dtype = model::load_config(model_dir).dtype;
  if (dtype == "bfloat16") return "bf16";
  if (dtype == "float32") return "f32";
  return "f16";
}

}  // namespace

int run_convert(const std::vector<std::string>& args) {
  po::options_description desc("quantforge convert MODEL_DIR --format gguf [options]");
  desc.add_options()("help,h", "this help")("model", po::value<std::string>(), "model folder")(
      "format", po::value<std::string>()->default_value("gguf"), "output format (gguf)")(
      "type", po::value<std::string>()->default_value("auto"),
      "matrix type: auto (as config.json's dtype), f32, f16, bf16, q8_0, q6_k (rows not a multiple of 256: "
      "q8_0); norms and biases stay f32");
  add_job_options(desc);
  add_plugin_options(desc);
  po::variables_map vm;
  if (!parse_model_command(args, desc, vm, "convert needs the model folder: quantforge convert MODEL_DIR --format gguf")) return kExitOk;

  start_console_logging(vm);
  host::PluginRegistry registry;
  load_plugins(vm, registry);
  pipeline::QuantizeRequest request;
  request.model_dir = vm["model"].as<std::string>();
  if (!std::filesystem::is_directory(request.model_dir))
    throw Error("model folder not found: " + request.model_dir.string());
  if (!std::filesystem::is_regular_file(request.model_dir / "config.json"))
    throw Error("no config.json in " + request.model_dir.string() + ": convert needs a Hugging Face model folder");
  request.recipe = recipe::conversion_recipe(vm["format"].as<std::string>(),
                                             resolved_type(vm["type"].as<std::string>(), request.model_dir));
  report_plugin_failures(registry, {"gguf_writer"});
  apply_job_options(vm, request);
  return run_job(request, registry, vm);
}

}  // namespace qf::cli
