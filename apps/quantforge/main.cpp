// quantforge: quantize Hugging Face causal LMs on CPU with method and format plugins.
#include <boost/program_options/errors.hpp>
#include <iostream>

#include "cli_common.hpp"
#include "cli_distributed.hpp"
#include "common/blas_environment.hpp"
#include "common/error.hpp"
#include "runtime_setup.hpp"

namespace {

const char* kUsage =
    "usage: quantforge <command> [options]\n"
    "commands:\n"
    "  quantize MODEL_DIR [--awq | --gptq | --recipe FILE] [...]   quantize a model\n"
    "  convert MODEL_DIR --format gguf [--type auto|f32|f16|bf16|q8_0|q6_k]  the model unquantized\n"
    "  plugins list | describe NAME                                 installed plugins\n"
    "  recipe show [--awq | --gptq | --recipe FILE] [...]           the resolved recipe\n"
    "  eval MODEL [--base FP_MODEL] [--dataset NAME|PATH] [...]    perplexity, KL vs a base model\n"
    "  launch -n N -- quantize MODEL_DIR [...]                      N ranks of a distributed run here\n"
    "run `quantforge <command> --help` for a command's options\n";

}  // namespace

int main(int argc, char** argv) {
  // Only the commands that run GEMMs pay for the re-execution it may take (~0.7 s of loading LibTorch
  // again); help, plugins, recipe and convert (no matrix products) start at once.
  if (argc >= 2 && (std::string(argv[1]) == "quantize" || std::string(argv[1]) == "eval"))
    qf::ensure_blas_environment(argv);
  qf::cli::prefer_avx512_kernels();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? qf::cli::kExitUsage : qf::cli::kExitOk;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "quantize") return qf::cli::run_quantize(args);
    if (command == "convert") return qf::cli::run_convert(args);
    if (command == "plugins") return qf::cli::run_plugins(args);
    if (command == "recipe") return qf::cli::run_recipe(args);
    if (command == "eval") return qf::cli::run_eval(args);
    if (command == "launch") return qf::cli::run_launch(args);
    std::cerr << "quantforge: unknown command '" << command << "'\n" << kUsage;
    return qf::cli::kExitUsage;
  } catch (const qf::cli::UsageError& e) {
    std::cerr << "quantforge: " << qf::user_message(e) << "\n";
    return qf::cli::kExitUsage;
  } catch (const boost::program_options::error& e) {
    std::cerr << "quantforge: " << qf::user_message(e) << "\n";
    return qf::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "quantforge: error: " << qf::user_message(e) << "\n";
    return qf::cli::kExitError;
  }
}
