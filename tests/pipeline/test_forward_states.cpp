// The kept forward states of a calibrated layer: captures, Grams and the propagation equal those of
// a layer that keeps nothing (every request a fresh forward from the layer's input) bit for bit;
// a GPTQ-like sequence (each group's input, then its write) runs every piece of the layer once; an
// exact restore (AWQ's search) keeps the states, a real change or a rescale recomputes them.
#include "model/catch_torch.hpp"

#include "model/tiny_model.hpp"
#include "pipeline/calibrated_layer.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/forward_state_cache.hpp"

using namespace qf::model;
using qf::pipeline::CalibratedLayer;
using qf::pipeline::ForwardStateCache;

namespace {

constexpr int64_t kBlocks = 5, kSeqlen = 12, kChunk = 2;  // chunks of 2, 2 and 1 blocks

// The same layer twice over the same inputs: one keeping its forward states, one keeping none.
struct TwinLayers {
  ModelConfig config;
  std::shared_ptr<MapSource> weights;
  DecoderLayer kept_layer, fresh_layer;
  at::Tensor inputs;
  CalibratedLayer kept, fresh;

  TwinLayers(const std::string& type, at::ScalarType dtype)
      : config(qf::test::tiny_config(type)),
        weights(qf::test::random_weights(config, 21)),
        kept_layer(config, find_architecture(type), *weights, 0, ComputeOptions{dtype}),
        fresh_layer(config, find_architecture(type), *weights, 0, ComputeOptions{dtype}),
        inputs(at::randn({kBlocks, kSeqlen, config.hidden_size}, at::detail::createCPUGenerator(4), at::TensorOptions())
                   .to(dtype)),
        kept(kept_layer, find_architecture(type), inputs, "model.layers.0.", kChunk),
        fresh(fresh_layer, find_architecture(type), inputs, "model.layers.0.", kChunk, nullptr,
              std::make_shared<ForwardStateCache>(0)) {}

  void write_both(const std::string& linear, const at::Tensor& w) {
    kept.write_weight(linear, qf::pipeline::view_of(w));
    fresh.write_weight(linear, qf::pipeline::view_of(w));
  }
};

at::Tensor gram_of(CalibratedLayer& layer, const std::string& linear, int64_t* tokens) {
  return qf::pipeline::borrow_dl(layer.input_gram(linear, tokens), "gram").clone();
}

at::Tensor captured(CalibratedLayer& layer, const std::string& linear) {
  return qf::pipeline::borrow_dl(layer.captured_input(linear), "captured").clone();
}

at::Tensor weight_of(CalibratedLayer& layer, const std::string& linear) {
  return qf::pipeline::borrow_dl(layer.read_weight(linear), "weight").clone();
}

// Rounds to a coarse grid, as a quantizer's write does: a real change of every weight.
at::Tensor coarse(const at::Tensor& w) { return (w * 8).round() / 8; }

bool same_work(const CalibratedLayer::ForwardWork& a, int64_t attention, int64_t attention_out, int64_t mlp,
               int64_t mlp_out) {
  return a.attention == attention && a.attention_out == attention_out && a.mlp == mlp && a.mlp_out == mlp_out;
}

}  // namespace

TEST_CASE("a GPTQ-like sequence runs each piece of the layer once and equals fresh forwards bit for bit",
          "[forward-states]") {
  const auto type = GENERATE(as<std::string>{}, "llama", "opt", "qwen3");
  const auto dtype = GENERATE(at::kFloat, at::kBFloat16);
  INFO(type << " " << c10::toString(dtype));
  TwinLayers t(type, dtype);
  for (int g = 0; g < DecoderLayer::kInputGroups; ++g) {
    const auto& names = t.kept_layer.input_group(g);
    int64_t tokens_kept = 0, tokens_fresh = 0;
    const at::Tensor gk = gram_of(t.kept, names[0], &tokens_kept);
    const at::Tensor gf = gram_of(t.fresh, names[0], &tokens_fresh);
    INFO("group " << g);
    CHECK(tokens_kept == kBlocks * kSeqlen);
    CHECK(tokens_kept == tokens_fresh);
    CHECK(at::equal(gk, gf));
    for (const auto& n : names) t.write_both(n, coarse(weight_of(t.kept, n)));
  }
  const at::Tensor out_kept = t.kept.forward_all();
  const at::Tensor out_fresh = t.fresh.forward_all();
  CHECK(at::equal(out_kept, out_fresh));
  // Kept: one forward in all. Fresh: each request forwards from the layer's input again.
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, kBlocks, kBlocks));
  CHECK(same_work(t.fresh.forward_work(), 4 * kBlocks, 3 * kBlocks, 2 * kBlocks, kBlocks));
  // And both are the layer's own forward with the written weights.
  const at::Tensor whole = t.kept_layer.forward(t.inputs);
  CHECK((out_kept.to(at::kFloat) - whole.to(at::kFloat)).abs().max().item<double>() <=
        (dtype == at::kFloat ? 1e-5 : 0.05) * whole.to(at::kFloat).abs().max().item<double>());
}

TEST_CASE("after the propagation every capture is served from the kept states; an exact restore keeps them",
          "[forward-states]") {
  TwinLayers t("llama", at::kBFloat16);
  t.kept.forward_all();
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, kBlocks, kBlocks));
  for (int g = 0; g < DecoderLayer::kInputGroups; ++g) {
    const std::string name = t.kept_layer.input_group(g)[0];
    INFO(name);
    CHECK(at::equal(captured(t.kept, name), captured(t.fresh, name)));
  }
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, kBlocks, kBlocks));  // no forward for the captures

  // A search tries candidates on gate/up and puts the originals back exactly: down's input stays kept.
  const at::Tensor down_in = captured(t.kept, "mlp.down_proj");
  const at::Tensor gate = weight_of(t.kept, "mlp.gate_proj"), up = weight_of(t.kept, "mlp.up_proj");
  t.kept.write_weight("mlp.gate_proj", qf::pipeline::view_of(gate * 1.5));
  t.kept.write_weight("mlp.up_proj", qf::pipeline::view_of(up * 0.5));
  t.kept.write_weight("mlp.gate_proj", qf::pipeline::view_of(gate));
  t.kept.write_weight("mlp.up_proj", qf::pipeline::view_of(up));
  CHECK(at::equal(captured(t.kept, "mlp.down_proj"), down_in));
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, kBlocks, kBlocks));

  // A real change recomputes down's input from the kept residual, and only that.
  t.write_both("mlp.gate_proj", gate * 1.5);
  const at::Tensor changed = captured(t.kept, "mlp.down_proj");
  CHECK_FALSE(at::equal(changed, down_in));
  CHECK(at::equal(changed, captured(t.fresh, "mlp.down_proj")));
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, 2 * kBlocks, kBlocks));
  // The inputs before the change are untouched: q/k/v's and o_proj's need no forward.
  CHECK(at::equal(captured(t.kept, "self_attn.o_proj"), captured(t.fresh, "self_attn.o_proj")));
  CHECK(same_work(t.kept.forward_work(), kBlocks, kBlocks, 2 * kBlocks, kBlocks));

  // Rescaling a norm changes what every later piece sees: all states go, the next output is recomputed.
  const at::Tensor before_scaling = t.fresh.forward_all();
  const at::Tensor s = at::full({t.config.hidden_size}, 2.0);
  t.kept.scale_previous_op("post_attention_layernorm", {"mlp.gate_proj", "mlp.up_proj"}, s);
  t.fresh.scale_previous_op("post_attention_layernorm", {"mlp.gate_proj", "mlp.up_proj"}, s);
  CHECK(at::equal(t.kept.forward_all(), t.fresh.forward_all()));
  CHECK(same_work(t.kept.forward_work(), 2 * kBlocks, 2 * kBlocks, 3 * kBlocks, 2 * kBlocks));
  const at::Tensor after_scaling = t.kept.forward_all().to(at::kFloat);
  CHECK((after_scaling - before_scaling.to(at::kFloat)).abs().max().item<double>() <
        0.05 * after_scaling.abs().max().item<double>());  // scaling preserves the function
}

TEST_CASE("the state cache keeps what its budget holds and follows weight writes", "[forward-states]") {
  ForwardStateCache cache(100);  // bytes
  at::Tensor a = cache.begin_fill(ForwardStateCache::kAttention, {5}, at::kFloat);  // 20 bytes
  REQUIRE(a.defined());
  a.fill_(1);
  CHECK_FALSE(cache.usable(ForwardStateCache::kAttention).defined());  // not complete yet
  cache.commit(ForwardStateCache::kAttention);
  CHECK(cache.usable(ForwardStateCache::kAttention).defined());
  CHECK_FALSE(cache.begin_fill(ForwardStateCache::kResidual, {30}, at::kFloat).defined());  // 120 > 80 left
  CHECK(cache.bytes_held() == 20);

  // The attention state depends on q/k/v (group 0) and not on down_proj (group 3).
  const at::Tensor w0 = at::arange(6, at::kFloat);
  at::Tensor w = w0.clone();
  cache.before_write("q", 0, w);
  w.add_(1);
  cache.after_write("q", w);
  CHECK_FALSE(cache.usable(ForwardStateCache::kAttention).defined());
  cache.before_write("q", 0, w);
  w.copy_(w0);
  cache.after_write("q", w);
  CHECK(cache.usable(ForwardStateCache::kAttention).defined());  // restored bit for bit
  cache.before_write("down", 3, w);
  cache.after_write("down", w + 1);
  CHECK(cache.usable(ForwardStateCache::kAttention).defined());

  // Refilling after a real change forgets the old weights: restoring them later does not revive it.
  cache.before_write("q", 0, w);
  w.add_(1);
  cache.after_write("q", w);
  at::Tensor again = cache.begin_fill(ForwardStateCache::kAttention, {5}, at::kFloat);
  REQUIRE(again.defined());
  cache.commit(ForwardStateCache::kAttention);
  CHECK(cache.usable(ForwardStateCache::kAttention).defined());
  cache.before_write("q", 0, w);
  w.copy_(w0);
  cache.after_write("q", w);
  CHECK_FALSE(cache.usable(ForwardStateCache::kAttention).defined());
  cache.clear();  // the next layer: nothing usable, the memory kept for its states
  CHECK_FALSE(cache.usable(ForwardStateCache::kAttention).defined());
  CHECK(cache.bytes_held() == 20);
  at::Tensor reused = cache.begin_fill(ForwardStateCache::kAttention, {5}, at::kFloat);
  CHECK(reused.data_ptr() == again.data_ptr());
  CHECK(cache.bytes_held() == 20);
  CHECK(cache.begin_fill(ForwardStateCache::kAttention, {20}, at::kFloat).defined());  // other shape: 80 bytes
  CHECK(cache.bytes_held() == 80);
}
