// Applying AWQ scales (docs/awq.md#applying-scales) on whole fixture models: scales searched the way
// the awq plugin searches them (over the host's calibration services: captured inputs, run_module on
// the inspected module, candidate weights written into the layer) and applied through the host's
// scale_previous_op, WITHOUT quantizing, leave the fp32 logits unchanged. Covers every kind of scaling
// group our architectures have: norm -> q/k/v (Llama/Mistral/Qwen2 with bias/Qwen3 with q/k norms),
// LayerNorm with bias (OPT), v -> o (OPT, no GQA), up -> down and fc1 -> fc2.
#include <ATen/ATen.h>  // before Catch: c10 logging defines CHECK too

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "awq_core.hpp"
#include "model/model.hpp"
#include "pipeline/calibrated_layer.hpp"
#include "pipeline/dl_views.hpp"

namespace fs = std::filesystem;
using qf::pipeline::borrow_dl;

namespace {

const fs::path kModels = fs::path(QF_TEST_DATA_DIR) / "models";

double relative_error(const at::Tensor& a, const at::Tensor& b) {
  return ((a.to(at::kDouble) - b.to(at::kDouble)).norm() / b.to(at::kDouble).norm()).item<double>();
}

struct GroupStats {
  int applied = 0;
  double max_spread = 1.0;  // largest max(s)/min(s) over the applied groups
};

// The plugin's steps 1-3 for one layer: search every group on the original weights, then apply.
GroupStats search_and_apply(qf::pipeline::CalibratedLayer& layer, int64_t seqlen) {
  const qf::awq::QuantConfig cfg;  // w4 g128 zero point
  std::map<std::string, int64_t> out_features;
  for (const auto& l : layer.linears()) out_features[l.short_name] = l.out_features;
  const auto& groups = layer.scaling_groups();
  std::vector<at::Tensor> scales;
  for (const auto& g : groups) {
    std::vector<at::Tensor> ws;
    for (const auto& l : g.linears) ws.push_back(borrow_dl(layer.read_weight(l), l).clone());
    const at::Tensor x = borrow_dl(layer.captured_input(g.linears[0]), "input").clone();
    REQUIRE(x.size(0) % seqlen == 0);
    const std::string module = g.inspect.empty() ? g.linears[0] : g.inspect;
    const at::Tensor y_ref = layer.run_module(module, x);
    const auto loss = [&](const std::vector<at::Tensor>& cand) {
      for (size_t j = 0; j < cand.size(); ++j) layer.write_weight(g.linears[j], qf::pipeline::view_of(cand[j].contiguous()));
      return qf::awq::mse(y_ref, layer.run_module(module, x));
    };
    const auto r = qf::awq::search_scales(ws, qf::awq::activation_mean(x), qf::awq::weight_mean(ws, cfg.group_size),
                                          loss, 20, true, cfg);
    for (size_t j = 0; j < ws.size(); ++j) layer.write_weight(g.linears[j], qf::pipeline::view_of(ws[j]));
    scales.push_back(r.scales);
  }
  GroupStats stats;
  for (size_t i = 0; i < groups.size(); ++i) {
    layer.scale_previous_op(groups[i].prev_op, groups[i].linears, scales[i]);
    ++stats.applied;
    stats.max_spread = std::max(stats.max_spread, (scales[i].max() / scales[i].min()).item<double>());
  }
  return stats;
}

}  // namespace

TEST_CASE("searched AWQ scales applied without quantizing leave the fp32 logits unchanged", "[awq][equivalence]") {
  const auto model_name = GENERATE(as<std::string>{}, "llama-random", "mistral-random", "qwen2-random", "qwen3-random",
                                   "opt-random", "tiny-llama");
  INFO(model_name);
  const auto model = qf::model::Model::open(kModels / model_name);  // fp32 compute, weights stay fp32 once scaled
  at::manual_seed(3);
  const int64_t blocks = 4, seqlen = 64;
  const at::Tensor ids = at::randint(0, model.config().vocab_size, {blocks, seqlen}, at::kLong);
  const at::Tensor reference = model.logits(ids);

  at::Tensor hidden = model.embed(ids);
  int groups = 0;
  double spread = 1.0;
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    qf::model::DecoderLayer resident = model.load_layer(i);
    const std::string prefix = model.architecture().layer_prefix + std::to_string(i) + ".";
    qf::pipeline::CalibratedLayer layer(resident, model.architecture(), hidden, prefix, 2);
    const at::Tensor before = layer.forward_all();
    const GroupStats s = search_and_apply(layer, seqlen);
    groups += s.applied;
    spread = std::max(spread, s.max_spread);
    hidden = layer.forward_all();
    INFO("layer " << i);
    CHECK(relative_error(hidden, before) <= 1e-5);
    CHECK(layer.scaled_modules().size() == static_cast<size_t>(s.applied));
  }
  const at::Tensor logits = model.lm_head(model.final_norm(hidden));
  const double rel = relative_error(logits, reference);
  INFO("scaling groups applied " << groups << ", largest scale spread " << spread << ", logits relative error " << rel);
  // OPT (no GQA) also has v -> o: 4 groups per layer; the GQA models have 3.
  CHECK(groups == model.num_layers() * (model_name == "opt-random" ? 4 : 3));
  CHECK(spread > 1.5);  // the scales are far from the identity, so the check has teeth
  CHECK(rel <= 1e-5);
}
