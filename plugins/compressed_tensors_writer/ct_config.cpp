#include "ct_config.hpp"

#include <nlohmann/json.hpp>

namespace qf::ct {

std::string quantization_config_json(const Plan& plan) {
  using nlohmann::json;
  const bool channel = plan.group_size == -1;
  // No zp_dtype / scale_dtype: compressed-tensors 0.11 and 0.12 refuse unknown keys in the weights'
  // arguments, and 0.13 and later fill in the same defaults (int8 zero points, scales as stored).
  json weights = json::object();
  weights["num_bits"] = plan.scheme.bits;
  weights["type"] = "int";
  weights["symmetric"] = plan.scheme.symmetric;
  weights["strategy"] = channel ? "channel" : "group";
  weights["group_size"] = channel ? json(nullptr) : json(plan.group_size);
  weights["block_structure"] = nullptr;
  weights["dynamic"] = false;
  weights["actorder"] = plan.act_order ? json("group") : json(nullptr);
  weights["observer"] = "minmax";
  weights["observer_kwargs"] = json::object();

  json group = json::object();
  group["targets"] = json::array({"Linear"});
  group["weights"] = std::move(weights);
  group["input_activations"] = nullptr;
  group["output_activations"] = nullptr;
  group["format"] = "pack-quantized";

  json config = json::object();
  config["config_groups"] = json::object();
  config["config_groups"]["group_0"] = std::move(group);
  config["format"] = "pack-quantized";
  config["global_compression_ratio"] = nullptr;
  config["ignore"] = plan.ignore;
  config["kv_cache_scheme"] = nullptr;
  config["quant_method"] = "compressed-tensors";
  config["quantization_status"] = "compressed";
  config["sparsity_config"] = json::object();
  config["transform_config"] = json::object();
  config["version"] = kFormatVersion;
  return config.dump();
}

}  // namespace qf::ct
