#include "cli_common.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <iostream>
#include <set>

#include "common/error.hpp"
#include "recipe/builtin.hpp"
#include "recipe/method_options.hpp"
#include "recipe/overrides.hpp"
#include "recipe/quant_config.hpp"
#include "runtime_setup.hpp"

namespace fs = std::filesystem;

namespace qf::cli {

void add_plugin_options(po::options_description& desc) {
  desc.add_options()("plugin-dir", po::value<std::vector<std::string>>()->composing(),
                     "extra folder to load plugins from (repeatable)");
}

bool parse_model_command(const std::vector<std::string>& args, const po::options_description& desc,
                         po::variables_map& vm, const std::string& missing_model) {
  po::positional_options_description pos;
  pos.add("model", 1);
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return false;
  }
  if (!vm.count("model")) throw UsageError(missing_model);
  return true;
}

void warn(const std::string& message) { std::cerr << "quantforge: warning: " << message << "\n"; }

void load_plugins(const po::variables_map& vm, host::PluginRegistry& registry) {
  if (vm.count("threads")) check_thread_count(vm["threads"].as<int>());
  std::vector<fs::path> dirs;
  if (vm.count("plugin-dir"))
    for (const auto& d : vm["plugin-dir"].as<std::vector<std::string>>()) {
      if (!fs::is_directory(d)) throw Error("--plugin-dir " + d + " is not a folder");
      dirs.emplace_back(d);
    }
  registry.load_directories(host::PluginRegistry::search_path(dirs));
}

void report_plugin_failures(const host::PluginRegistry& registry, const std::vector<std::string>& needed) {
  for (const auto& name : needed)
    if (!registry.find(name))
      if (const auto* failure = registry.failure_for(name))
        throw Error("plugin '" + name + "' is not available: its library failed to load: " + failure->message());
  for (const auto& failure : registry.failures())
    warn("skipped a plugin library that failed to load: " + failure.message());
}

void add_recipe_options(po::options_description& desc) {
  desc.add_options()
      ("awq", po::bool_switch(), "AWQ 4-bit (configs/awq.toml; the default)")
      ("gptq", po::bool_switch(), "GPTQ, 8-bit by default (configs/gptq.toml)")
      ("recipe", po::value<std::string>(), "recipe TOML file, or the name of a built-in recipe (rtn)")
      ("bits", po::value<std::string>(), "bits per weight")
      ("group_size", po::value<std::string>(), "input channels per scale (-1: per channel)")
      ("zero_point", po::value<std::string>(), "asymmetric grid with a zero point (true/false)")
      ("quant_config", po::value<std::string>(),
       "JSON or TOML file with AutoAWQ or GPTQ keys (an unknown key is an error; keys of other tools that "
       "the method does not read are ignored with a warning)")
      ("dataset", po::value<std::string>(),
       "calibration dataset: wikitext2 (train split), wikitext2-valid, pileval, c4, bundled, or a file")
      ("dataset-path", po::value<std::string>(), "folder searched first for calibration datasets")
      ("num_samples", po::value<std::string>(), "calibration blocks")
      ("seqlen", po::value<std::string>(), "tokens per calibration block")
      ("seed", po::value<std::string>(), "calibration sampling seed")
      ("damp_percent", po::value<std::string>(), "GPTQ Hessian damping")
      ("desc_act", po::value<std::string>(), "GPTQ act-order (true/false)")
      ("sym", po::value<std::string>(), "symmetric grid (true/false)")
      ("format", po::value<std::string>(),
       "output format: safetensors (the recipe's; default), gguf (llama.cpp, Ollama), compressed-tensors (vLLM)")
      ("float-type", po::value<std::string>(),
       "--format gguf: type of the matrices the method leaves in floating point (embeddings, lm_head): auto (as "
       "stored), f32, f16, bf16, q8_0, q6_k (llama.cpp's presets give output.weight Q6_K)");
}

std::vector<fs::path> recipe_search_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("QUANTFORGE_CONFIG_DIR")) dirs.emplace_back(env);
  const fs::path exe = boost::dll::program_location().parent_path().string();
  // <prefix>/bin/quantforge -> <prefix>/share/quantforge/configs; the build tree has the same layout.
  dirs.push_back(exe.parent_path() / "share" / "quantforge" / "configs");
  return dirs;
}

namespace {

recipe::Recipe select_recipe(const po::variables_map& vm) {
  const bool awq = vm["awq"].as<bool>(), gptq = vm["gptq"].as<bool>();
  const bool file = vm.count("recipe") > 0;
  if (static_cast<int>(awq) + static_cast<int>(gptq) + static_cast<int>(file) > 1)
    throw UsageError("--awq, --gptq and --recipe are mutually exclusive: pick one");
  if (file) {
    const std::string r = vm["recipe"].as<std::string>();
    if (fs::is_regular_file(r)) return recipe::load_recipe_file(r);
    if (r.find('/') == std::string::npos && r.find(".toml") == std::string::npos)
      return recipe::load_recipe_file(recipe::find_builtin_recipe(r, recipe_search_dirs()));
    throw Error("recipe file not found: " + r);
  }
  return recipe::load_recipe_file(recipe::find_builtin_recipe(gptq ? "gptq" : "awq", recipe_search_dirs()));
}

int64_t as_int(const recipe::OptionValue& v, const std::string& flag) {
  if (!std::holds_alternative<int64_t>(v)) throw UsageError(flag + " needs an integer");
  return std::get<int64_t>(v);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Applies --quant_config: every key is used, ignored with a warning (another tool's setting), or
// an error (unknown: a typo must not leave a setting at its default).
void apply_quant_config_file(recipe::Recipe& r, const std::string& path, bool method_installed,
                             const std::set<std::string>& declared) {
  const recipe::QuantConfigFile qc = recipe::read_quant_config(path);
  if (!method_installed)
    throw Error("--quant_config " + qc.file + ": method plugin '" + r.method.plugin +
                "' is not installed, so which keys it reads is unknown (see `quantforge plugins list`)");
  const recipe::QuantConfigUse use = recipe::apply_quant_config(r, qc, declared);
  if (!use.ignored.empty())
    warn(qc.file + ": keys method '" + r.method.plugin + "' does not read, ignored: " + join(use.ignored));
}

}  // namespace

recipe::Recipe resolve_recipe(const po::variables_map& vm, const host::PluginRegistry& registry) {
  recipe::Recipe r = select_recipe(vm);
  if (vm.count("format")) recipe::apply_output_format(r, vm["format"].as<std::string>());
  if (vm.count("float-type")) {
    if (r.formats.empty() || r.formats.front().plugin != "gguf_writer")
      throw UsageError("--float-type sets the GGUF type of embeddings and lm_head: use it with --format gguf");
    r.formats.front().options["float_type"] = {vm["float-type"].as<std::string>(), "--float-type"};
  }
  std::vector<std::string> needed{r.method.plugin};
  for (const auto& f : r.formats) needed.push_back(f.plugin);
  report_plugin_failures(registry, needed);
  const auto method = registry.find(r.method.plugin);
  std::set<std::string> declared;
  if (method)
    for (const auto& o : method->options()) declared.insert(o.name);

  if (vm.count("quant_config"))
    apply_quant_config_file(r, vm["quant_config"].as<std::string>(), method != nullptr, declared);
  std::vector<recipe::MethodOverride> flags;
  for (const char* flag : {"bits", "group_size", "zero_point", "damp_percent", "desc_act", "sym"})
    if (vm.count(flag))
      flags.push_back({flag, recipe::parse_cli_value(vm[flag].as<std::string>()), std::string("--") + flag});
  recipe::resolve_method_options(r, declared, flags);
  for (const char* flag : {"dataset", "dataset-path", "num_samples", "seqlen", "seed"})
    if (vm.count(flag)) r.calibration_flags.push_back(std::string("--") + flag);
  if (!r.calibration_flags.empty()) {
    if (!r.calibration) r.calibration = recipe::Calibration{};
    if (vm.count("dataset")) {
      r.calibration->dataset = vm["dataset"].as<std::string>();
      r.dataset_from_cli = true;
    }
    if (vm.count("dataset-path")) r.calibration->dataset_path = vm["dataset-path"].as<std::string>();
    if (vm.count("num_samples"))
      r.calibration->num_samples = as_int(recipe::parse_cli_value(vm["num_samples"].as<std::string>()), "--num_samples");
    if (vm.count("seqlen"))
      r.calibration->seqlen = as_int(recipe::parse_cli_value(vm["seqlen"].as<std::string>()), "--seqlen");
    if (vm.count("seed")) r.calibration->seed = as_int(recipe::parse_cli_value(vm["seed"].as<std::string>()), "--seed");
  }
  recipe::validate(r);
  return r;
}

}  // namespace qf::cli
