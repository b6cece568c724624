// Hooks for quantization methods: linears, weights, captured inputs, sub-modules, AWQ scaling.
#include "catch_torch.hpp"

#include "common/error.hpp"
#include "model/decoder_layer.hpp"
#include "tiny_model.hpp"

using namespace qf::model;
using qf::test::rel_err;

namespace {

struct Fixture {
  ModelConfig c;
  std::shared_ptr<MapSource> w;
  DecoderLayer layer;
  at::Tensor x;
  explicit Fixture(const std::string& type, int64_t kv = 2)
      : c(qf::test::tiny_config(type, kv)),
        w(qf::test::random_weights(c, 11)),
        layer(c, find_architecture(type), *w, 0, {}),
        x(at::randn({2, 10, c.hidden_size}, at::detail::createCPUGenerator(5), at::TensorOptions())) {}
};

}  // namespace

TEST_CASE("linears are listed in registration order with shapes and biases", "[hooks]") {
  Fixture f("qwen2");
  auto l = f.layer.linears();
  REQUIRE(l.size() == 7);
  CHECK(l[0].name == "self_attn.q_proj");
  CHECK(l[1].out_features == 32);  // 2 kv heads * 16
  CHECK(l[2].has_bias);
  CHECK_FALSE(l[3].has_bias);      // qwen2 o_proj has no bias
  CHECK(l[3].in_features == 64);
  CHECK(l[6].name == "mlp.down_proj");
  CHECK(l[6].in_features == 96);
  Fixture o("opt");
  auto ol = o.layer.linears();
  REQUIRE(ol.size() == 6);
  CHECK(ol[4].name == "fc1");
  CHECK(ol[5].has_bias);
}

TEST_CASE("capture: shared inputs share one tensor; sub-modules reproduce the layer", "[hooks]") {
  for (const std::string type : {"llama", "opt", "qwen3"}) {
    Fixture f(type);
    const auto& a = find_architecture(type);
    at::Tensor out;
    auto in = f.layer.capture_inputs(f.x, &out);
    CHECK(in.size() == f.layer.linears().size());
    CHECK(in[a.q_proj].data_ptr() == in[a.v_proj].data_ptr());
    CHECK(at::equal(out, f.layer.forward(f.x)));
    // attention module on the q_proj input + residual, then MLP on the up input + residual = layer.
    at::Tensor r = f.x + f.layer.run_module("self_attn", in[a.q_proj]);
    at::Tensor y = r + f.layer.run_module("mlp", in[a.up_proj]);
    CHECK(rel_err(y, out) < 1e-6);
    // A single linear run on its captured input; the down input is what the MLP fed it.
    at::Tensor d = f.layer.run_module(a.down_proj, in[a.down_proj]);
    CHECK(rel_err(r + d, out) < 1e-6);
  }
}

TEST_CASE("capture callback is called once per input group", "[hooks]") {
  Fixture f("llama");
  std::vector<std::vector<std::string>> groups;
  f.layer.forward(f.x, [&](const std::vector<std::string>& names, const at::Tensor& in) {
    groups.push_back(names);
    CHECK(in.size(-1) == f.layer.weight(names[0]).size(1));
  });
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].size() == 3);
  CHECK(groups[2] == std::vector<std::string>{"mlp.gate_proj", "mlp.up_proj"});
}

TEST_CASE("get and replace a weight", "[hooks]") {
  Fixture f("qwen2");
  at::Tensor before = f.layer.forward(f.x);
  at::Tensor w = f.layer.weight("self_attn.k_proj").clone();
  at::Tensor b = f.layer.bias("self_attn.k_proj").clone();
  CHECK(at::equal(w, f.w->borrow("model.layers.0.self_attn.k_proj.weight")));
  f.layer.set_weight("self_attn.k_proj", at::zeros_like(w), at::zeros_like(b));
  CHECK(f.layer.weight("self_attn.k_proj").abs().sum().item<float>() == 0);
  CHECK_FALSE(at::allclose(f.layer.forward(f.x), before));
  f.layer.set_weight("self_attn.k_proj", w, b);
  CHECK(at::equal(f.layer.forward(f.x), before));
  CHECK_THROWS_AS(f.layer.set_weight("self_attn.k_proj", at::zeros({3, 3})), qf::Error);
  CHECK_THROWS_WITH(f.layer.weight("mlp.nope"), Catch::Contains("mlp.nope") && Catch::Contains("mlp.down_proj"));
  CHECK_THROWS_WITH(f.layer.set_weight("self_attn.o_proj", f.layer.weight("self_attn.o_proj"), at::zeros({64})),
                    Catch::Contains("no bias"));
}

TEST_CASE("scaling a previous op by 1/s and the linears by s leaves the layer unchanged", "[hooks][scale]") {
  for (const std::string type : {"llama", "qwen2", "qwen3", "opt"}) {
    for (int64_t kv : {2, 4}) {
      Fixture f(type, kv);
      at::Tensor before = f.layer.forward(f.x);
      auto groups = f.layer.awq_groups();
      CHECK(groups.size() == ((type == "opt" || (kv == 4 && type != "qwen3")) ? 4u : 3u));
      for (const auto& g : groups) {
        const int64_t n = f.layer.weight(g.linears[0]).size(1);
        at::Tensor s = at::rand({n}) * 4 + 0.25;
        f.layer.scale(g.prev_op, g.linears, s);
      }
      double err = rel_err(f.layer.forward(f.x), before);
      INFO(type << " kv=" << kv << " err " << err);
      CHECK(err < 1e-5);
    }
  }
}

TEST_CASE("scale rejects shape mismatches without changing the layer", "[hooks][scale]") {
  Fixture f("llama", 2);  // GQA: v has 32 outputs, o has 64 inputs
  at::Tensor before = f.layer.forward(f.x);
  CHECK_THROWS_AS(f.layer.scale("self_attn.v_proj", {"self_attn.o_proj"}, at::ones({64}) * 2), qf::Error);
  CHECK(at::equal(f.layer.forward(f.x), before));
}
