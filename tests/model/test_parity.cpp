// Parity with the transformers 5.17 goldens (tests/data/goldens, fp32 eager attention on CPU).
// Relative error of a tensor = max|ours - golden| / max|golden| over the whole tensor.
// fp32: every layer output, the final norm and the logits must be within 1e-4.
// bf16: measured and printed; asserted only against a loose bound.
#include <filesystem>

#include "catch_torch.hpp"
#include "model/model.hpp"
#include "support/fixtures.hpp"
#include "tiny_model.hpp"

using namespace qf::model;
using qf::test::rel_err;

namespace {

const std::filesystem::path kData = QF_TEST_DATA_DIR;
const char* const kModels[] = {"tiny-llama", "llama-random", "mistral-random", "qwen2-random", "qwen3-random",
                               "opt-random"};

struct Errors {
  double embeddings = 0, layers = 0, final_norm = 0, logits = 0;
};

Errors compare(const std::string& name, const ComputeOptions& opts) {
  Model m = Model::open(kData / "models" / name, opts);
  CheckpointSource golden(qf::st::Checkpoint::open_files({kData / "goldens" / (name + ".safetensors")}));
  at::Tensor ids = golden.borrow("input_ids");
  ForwardTrace tr = m.trace(ids);
  Errors e;
  e.embeddings = rel_err(m.embed(ids), golden.borrow("embeddings"));
  for (int64_t i = 0; i < m.num_layers(); ++i)
    e.layers = std::max(e.layers, rel_err(tr.layer_outputs[static_cast<size_t>(i)],
                                          golden.borrow("layer_" + std::to_string(i))));
  e.final_norm = rel_err(tr.final_norm, golden.borrow("final_norm"));
  e.logits = rel_err(tr.logits, golden.borrow("logits"));
  return e;
}

}  // namespace

TEST_CASE("fp32 parity with transformers goldens", "[parity]") {
  for (const char* name : kModels) {
    qf::test::require_fixture(kData / "goldens" / (std::string(name) + ".safetensors"));
    Errors e = compare(name, {at::kFloat, false});
    WARN(name << " fp32 rel err: embeddings " << e.embeddings << ", worst layer " << e.layers << ", final norm "
              << e.final_norm << ", logits " << e.logits);
    CHECK(e.embeddings <= 1e-4);
    CHECK(e.layers <= 1e-4);
    CHECK(e.final_norm <= 1e-4);
    CHECK(e.logits <= 1e-4);
  }
}

TEST_CASE("bf16 error against the fp32 goldens (documented, loose bound)", "[parity][bf16]") {
  for (const char* name : kModels) {
    qf::test::require_fixture(kData / "goldens" / (std::string(name) + ".safetensors"));
    for (bool fp32_scores : {false, true}) {
      Errors e = compare(name, {at::kBFloat16, fp32_scores});
      WARN(name << " bf16 (fp32 scores=" << fp32_scores << ") rel err: worst layer " << e.layers << ", final norm "
                << e.final_norm << ", logits " << e.logits);
      CHECK(e.layers <= 5e-2);
      CHECK(e.logits <= 5e-2);
    }
  }
}
