// The per-layer resume state: what a layer emitted comes back in the same order with the same bytes,
// the hidden states come back exactly, and a changed fingerprint is refused naming what changed.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "common/error.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/resume_state.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::pipeline::Fingerprint;
using qf::pipeline::ResumeStore;

using qf::test::TempDir;

TEST_CASE("finished layers replay in emission order with identical bytes", "[resume]") {
  TempDir dir;
  const Fingerprint fp{{"recipe", "rtn bits=4"}, {"threads", "2"}};
  at::manual_seed(3);
  // Names deliberately out of alphabetical order; several dtypes, as methods emit them.
  const std::vector<std::pair<std::string, at::Tensor>> layer0{
      {"model.layers.0.z.qweight", at::randint(0, 1 << 30, {8, 4}, at::kInt)},
      {"model.layers.0.a.scales", at::randn({2, 8}).to(at::kHalf)},
      {"model.layers.0.norm.weight", at::randn({16}).to(at::kBFloat16)}};
  const at::Tensor hidden = at::randn({2, 5, 16});
  {
    ResumeStore store(dir.path(), fp);
    CHECK(store.layers_done() == 0);
    for (const auto& [name, t] : layer0) store.record(name, qf::pipeline::view_of(t));
    store.finish_layer(0, hidden);
    store.record("model.layers.1.x", qf::pipeline::view_of(layer0[0].second));
    store.finish_layer(1, hidden * 2);
  }
  ResumeStore again(dir.path(), fp);
  REQUIRE(again.layers_done() == 2);
  std::vector<std::string> order;
  again.replay_layer(0, [&](const std::string& name, const DLTensor& t) {
    order.push_back(name);
    const at::Tensor back = qf::pipeline::borrow_dl(t, name);
    for (const auto& [n, original] : layer0)
      if (n == name) CHECK(at::equal(back, original));
  });
  CHECK(order == std::vector<std::string>{layer0[0].first, layer0[1].first, layer0[2].first});
  CHECK(at::equal(again.load_hidden(), hidden * 2));
  CHECK_FALSE(fs::exists(dir.path() / "hidden-00000.safetensors"));  // only the newest hidden states are kept
  CHECK(again.bytes_on_disk() > 0);
}

TEST_CASE("a changed fingerprint is refused, naming each changed part", "[resume]") {
  TempDir dir;
  {
    ResumeStore store(dir.path(), {{"recipe", "bits=4"}, {"threads", "2"}, {"model files", "a:1:2"}});
    store.finish_layer(0, at::Tensor());
  }
  CHECK_THROWS_WITH(ResumeStore(dir.path(), {{"recipe", "bits=8"}, {"threads", "1"}, {"model files", "a:1:2"}}),
                    Catch::Contains("changed since it started: recipe (was bits=4, now bits=8); threads (was 2, now 1)") &&
                        Catch::Contains("--no-resume") && !Catch::Contains("model files"));
  std::ofstream(dir.path() / "state.json") << "{ not json";
  CHECK_THROWS_WITH(ResumeStore(dir.path(), {}), Catch::Contains("damaged") && Catch::Contains("--no-resume"));
}
