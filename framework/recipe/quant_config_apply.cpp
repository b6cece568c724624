// apply_quant_config: which keys of an AutoAWQ / GPTQ config file a method reads, which it ignores,
// and a clear error for the rest (a typo must not leave a setting at its default unnoticed).
#include <algorithm>

#include "common/error.hpp"
#include "recipe/closest_name.hpp"
#include "recipe/overrides.hpp"
#include "recipe/quant_config.hpp"

namespace qf::recipe {

const std::set<std::string>& known_tool_keys() {
  static const std::set<std::string> keys = {
      // AutoAWQ (quant_config.json and the quantization_config it gives transformers)
      "zero_point", "q_group_size", "w_bit", "version", "modules_to_not_convert", "quant_method", "bits", "group_size",
      // transformers AwqConfig
      "backend", "do_fuse", "fuse_max_seq_len", "modules_to_fuse", "exllama_config", "format",
      // AutoGPTQ quantize_config.json
      "damp_percent", "desc_act", "static_groups", "sym", "true_sequential", "model_name_or_path",
      "model_file_base_name", "checkpoint_format",
      // GPTQModel quantize_config.json (its tuning settings sit under "meta")
      "dynamic", "lm_head", "method", "pack_dtype", "pack_impl", "rotation", "meta", "damp_auto_increment", "mse",
      "quantizer", "uri",
      // optimum GPTQQuantizer
      "dataset", "act_group_aware", "modules_in_block_to_quantize",
      // transformers GPTQConfig
      "batch_size", "block_name_to_quantize", "cache_block_outputs", "max_input_length", "model_seqlen",
      "module_name_preceding_first_block", "pad_token_id", "tokenizer", "use_cuda_fp16", "use_exllama",
      // the GPTQ paper's command line
      "wbits"};
  return keys;
}

namespace {

// A boolean value translates under every rule (zero_point <-> sym needs one).
bool names_an_option(const std::string& key, const std::set<std::string>& declared) {
  return translate_option(key, OptionValue{true}, declared).has_value();
}

bool written_by_other_tools(const std::string& key) {
  return known_tool_keys().count(key) != 0 || alias_group(key) != nullptr;
}

// The method's option names, then the other names that reach them through the alias table.
std::vector<std::string> readable_names(const std::set<std::string>& declared) {
  std::vector<std::string> names(declared.begin(), declared.end());
  for (const auto& group : option_aliases())
    for (const auto& name : group)
      if (declared.count(name) == 0 && names_an_option(name, declared)) names.push_back(name);
  if (declared.count("sym") == 0 && names_an_option("sym", declared)) names.push_back("sym");
  return names;
}

std::string join(const std::vector<std::string>& items, const std::string& quote = "") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + quote + item + quote;
  return out;
}

std::string what_method_reads(const std::string& method, const std::set<std::string>& declared) {
  const std::vector<std::string> names = readable_names(declared);
  const std::vector<std::string> own(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(declared.size()));
  const std::vector<std::string> aliases(names.begin() + static_cast<std::ptrdiff_t>(declared.size()), names.end());
  if (own.empty()) return "method '" + method + "' has no options";
  return "method '" + method + "' reads " + join(own) + (aliases.empty() ? "" : " (also as " + join(aliases) + ")");
}

[[noreturn]] void unknown_keys(const QuantConfigFile& qc, const std::vector<std::string>& unknown,
                               const std::string& method, const std::set<std::string>& declared) {
  std::vector<std::string> candidates = readable_names(declared);
  candidates.insert(candidates.end(), known_tool_keys().begin(), known_tool_keys().end());
  std::string listed;
  for (const auto& key : unknown) {
    const std::string near = closest_name(key, candidates);
    listed += (listed.empty() ? "'" : ", '") + key + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)");
  }
  throw Error(qc.file + ": unknown quant_config key" + (unknown.size() > 1 ? "s " : " ") + listed + "; " +
              what_method_reads(method, declared) + ". Fix or remove " + (unknown.size() > 1 ? "them" : "it") +
              " (keys other AWQ/GPTQ tools write are accepted and ignored)");
}

struct Setting {
  std::string key;     // as in the file
  std::string option;  // the method's name for it
  OptionValue value;
  std::string origin;
};

}  // namespace

QuantConfigUse apply_quant_config(Recipe& recipe, const QuantConfigFile& qc, const std::set<std::string>& declared) {
  const std::string& method = recipe.method.plugin;
  QuantConfigUse use;
  std::vector<Setting> direct, translated;
  std::vector<std::string> unknown;
  for (const auto& [key, v] : qc.options) {
    std::optional<std::pair<std::string, OptionValue>> mapped;
    try {
      mapped = translate_option(key, v.value, declared);
    } catch (const Error& e) {
      rethrow_with_context(e, v.origin + ": ");
    }
    if (mapped) {
      (mapped->first == key ? direct : translated).push_back(Setting{key, mapped->first, mapped->second, v.origin});
    } else if (qc.from_meta.count(key) != 0) {
      use.ignored.push_back("meta." + key);  // the writing tool's own bookkeeping: never an error
    } else if (written_by_other_tools(key)) {
      use.ignored.push_back(key);
    } else {
      unknown.push_back(key);
    }
  }
  for (const auto& [key, type] : qc.non_scalars) {
    if (key.rfind("meta.", 0) == 0 || names_an_option(key, declared) || written_by_other_tools(key)) {
      use.ignored.push_back(key + " (" + type + ")");
    } else {
      unknown.push_back(key);
    }
  }
  // A model's config.json without quantization_config would otherwise list dozens of unknown keys.
  if (qc.options.count("model_type") != 0 || qc.non_scalars.count("architectures") != 0)
    throw Error(qc.file + ": this is a model's config.json without a 'quantization_config' object; pass a "
                          "quantization config (quant_config.json, quantize_config.json) or a quantized model's "
                          "config.json");
  if (!unknown.empty()) unknown_keys(qc, unknown, method, declared);

  // The method's own name wins over a translated one (an AWQ file with zero_point and sym).
  std::map<std::string, const Setting*> chosen;
  for (const auto* group : {&direct, &translated}) {
    for (const auto& s : *group) {
      if (auto it = chosen.find(s.option); it != chosen.end()) {
        use.ignored.push_back(s.key + " (" + it->second->key + " wins)");
      } else {
        chosen[s.option] = &s;
        use.used.push_back(s.key);
      }
    }
  }
  if (chosen.empty())
    throw Error(qc.file + ": no quant_config key sets an option of method '" + method + "'" +
                (use.ignored.empty() ? " (the file has no keys)" : " (not read: " + join(use.ignored) + ")") + "; " +
                what_method_reads(method, declared));
  for (const auto& [option, s] : chosen) set_method_option(recipe, option, s->value, s->origin);
  return use;
}

}  // namespace qf::recipe
