// Cross-checks against files made by Python safetensors 0.8 / transformers 5 (tests/data/README.md):
// rewriting their tensors must reproduce them byte for byte, and our index text must match theirs.
#include <cstring>

#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "st_test_util.hpp"

using namespace qf::st;
using namespace qf::st::test;

namespace {

const fs::path kModels = fs::path(QF_TEST_DATA_DIR) / "models";

}  // namespace

TEST_CASE("write_file reproduces Python-written safetensors files byte for byte", "[safetensors][python]") {
  TempDir dir;
  for (const char* rel : {"llama-random/model.safetensors", "mistral-random/model.safetensors",
                          "opt-random/model.safetensors", "qwen2-random/model.safetensors",
                          "qwen3-random/model.safetensors", "tiny-llama/model-00001-of-00002.safetensors",
                          "tiny-llama/model-00002-of-00002.safetensors"}) {
    const fs::path src = kModels / rel;
    INFO(src.string());
    REQUIRE(fs::exists(src));
    auto f = SafetensorsFile::open(src);
    REQUIRE(f->header().metadata == Metadata{{"format", "pt"}});
    std::vector<TensorRef> refs;
    // Reverse the offset order so the writer has to sort for itself.
    for (auto it = f->header().tensors.rbegin(); it != f->header().tensors.rend(); ++it)
      refs.push_back({it->name, it->dtype, it->shape, f->view(*it).data, std::size_t(it->nbytes())});
    write_file(dir / "copy.safetensors", refs);
    CHECK((read_bytes(dir / "copy.safetensors") == read_bytes(src)));
  }
}

TEST_CASE("tiny-llama opens through its index, and our index text matches transformers'", "[safetensors][python]") {
  const fs::path model = kModels / "tiny-llama";
  auto c = Checkpoint::open(model);
  CHECK(c.files().size() == 2);
  CHECK(c.names().size() == 39);  // 4 layers x 9 + embed, norm, lm_head
  auto v = c.get("model.norm.weight");
  CHECK(v.info->dtype == DType::BF16);
  CHECK(v.info->shape == std::vector<int64_t>{256});

  std::map<std::string, std::string> weight_map;
  uint64_t total = 0;
  for (const auto& name : c.names()) {
    const auto t = c.get(name);
    weight_map[name] = c.files()[0]->find(name) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    total += t.info->nbytes();
  }
  TempDir dir;
  write_index(dir / "index.json", total, weight_map);
  // transformers 5 adds "total_parameters"; apart from that line the texts must agree exactly.
  std::string theirs = read_bytes(model / "model.safetensors.index.json");
  const std::string extra = "    \"total_parameters\": 5245184,\n";
  REQUIRE(theirs.find(extra) != std::string::npos);
  theirs.erase(theirs.find(extra), extra.size());
  CHECK(read_bytes(dir / "index.json") == theirs);
}
