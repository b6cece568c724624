// Whole-model helpers on synthetic in-memory models: embed -> layers -> norm -> lm_head.
#include "catch_torch.hpp"

#include "common/error.hpp"
#include "model/model.hpp"
#include "reference_layer.hpp"

using namespace qf::model;
using qf::test::rel_err;

TEST_CASE("logits equal the layer-by-layer reference; trace agrees", "[model]") {
  for (const std::string type : {"llama", "qwen2", "qwen3", "opt"}) {
    auto c = qf::test::tiny_config(type);
    auto w = qf::test::random_weights(c, 21);
    Model m(c, w);
    at::Tensor ids = at::randint(0, c.vocab_size, {2, 20}, at::kLong);
    auto tr = m.trace(ids);
    REQUIRE(tr.layer_outputs.size() == 2);
    CHECK(tr.logits.sizes() == at::IntArrayRef({2, 20, c.vocab_size}));
    CHECK(tr.logits.scalar_type() == at::kFloat);
    CHECK(at::equal(tr.logits, m.logits(ids)));
    // Reference: embeddings (+ OPT positions at offset 2), naive layers, norm, head.
    const auto& a = find_architecture(type);
    at::Tensor h = w->borrow(a.embed_tokens).index_select(0, ids.reshape(-1)).view({2, 20, -1});
    if (type == "opt") h = h + w->borrow(a.embed_positions).narrow(0, 2, 20);
    for (int64_t i = 0; i < 2; ++i) {
      h = qf::test::ref_layer(c, *w, i, h);
      CHECK(rel_err(tr.layer_outputs[static_cast<size_t>(i)], h) < 1e-5);
    }
    at::Tensor head = w->borrow(c.tie_word_embeddings ? a.embed_tokens : a.lm_head);
    at::Tensor logits = at::linear(m.final_norm(h.to(at::kFloat)), head);
    CHECK(rel_err(tr.logits, logits) < 1e-5);
  }
}

TEST_CASE("bf16 checkpoint computed in fp32 and bf16; head converted in chunks", "[model][bf16]") {
  auto c = qf::test::tiny_config("llama");
  auto w = qf::test::random_weights(c, 22, at::kBFloat16);
  at::Tensor ids = at::randint(0, c.vocab_size, {1, 16}, at::kLong);
  at::Tensor f32 = Model(c, w, {at::kFloat, false}).logits(ids);
  at::Tensor b16 = Model(c, w, {at::kBFloat16, false}).logits(ids);
  double err = rel_err(b16, f32);
  WARN("bf16 vs fp32 logits rel err on a tiny bf16 model: " << err);
  CHECK(err < 5e-2);
}

TEST_CASE("input validation", "[model]") {
  auto c = qf::test::tiny_config("llama");
  Model m(c, qf::test::random_weights(c));
  CHECK_THROWS_WITH(m.embed(at::full({1, 3}, c.vocab_size, at::kLong)), Catch::Contains("out of range"));
  CHECK_THROWS_AS(m.embed(at::zeros({3}, at::kLong)), qf::Error);
  auto c2 = c;
  c2.tie_word_embeddings = true;  // not tied in the map but lm_head present: still uses lm_head
  CHECK_NOTHROW(Model(c2, qf::test::random_weights(c)).logits(at::zeros({1, 2}, at::kLong)));
}
