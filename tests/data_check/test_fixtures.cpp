#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "safetensors/reader.hpp"

namespace fs = std::filesystem;

TEST_CASE("every golden tensor has the shape and dtype its description lists", "[fixtures]") {
  const fs::path goldens = fs::path(QF_TEST_DATA_DIR) / "goldens";
  int models = 0;
  for (const char* model : {"tiny-llama", "llama-random", "mistral-random", "qwen2-random", "qwen3-random", "opt-random"}) {
    std::ifstream in(goldens / (std::string(model) + ".json"));
    REQUIRE(in.good());
    const auto desc = nlohmann::json::parse(in);
    const auto file = qf::st::SafetensorsFile::open(fs::path(QF_TEST_DATA_DIR) / desc["file"].get<std::string>());
    for (const auto& [name, t] : desc["tensors"].items()) {
      INFO(model << " " << name);
      const auto* info = file->find(name);
      REQUIRE(info != nullptr);
      CHECK(info->shape == t["shape"].get<std::vector<int64_t>>());
      CHECK(std::string(qf::st::dtype_name(info->dtype)) == t["dtype"].get<std::string>());
    }
    // Each model directory opens as a checkpoint and its config names the architecture.
    const auto ckpt = qf::st::Checkpoint::open(fs::path(QF_TEST_DATA_DIR) / desc["model_dir"].get<std::string>());
    CHECK(ckpt.names().size() > 5);
    ++models;
  }
  CHECK(models == 6);
}
