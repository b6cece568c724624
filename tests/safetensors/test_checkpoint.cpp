// Checkpoint::open over single files and index-sharded directories, and every index error.
#include <cstring>
#include <vector>

#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "st_test_util.hpp"

using namespace qf::st;
using namespace qf::st::test;

namespace {

const float kA[2] = {1, 2};
const float kB[3] = {3, 4, 5};
const int32_t kC[1] = {6};

void two_shards(const TempDir& dir) {
  write_file(dir / "s1.safetensors", {{"a", DType::F32, {2}, kA, sizeof kA}, {"extra", DType::I32, {1}, kC, 4}});
  write_file(dir / "s2.safetensors", {{"b", DType::F32, {3}, kB, sizeof kB}, {"c", DType::I32, {1}, kC, 4}});
}

void index(const TempDir& dir, const std::string& weight_map, const std::string& name = "model.safetensors.index.json") {
  write_bytes(dir / name, R"({"metadata":{"total_size":24},"weight_map":)" + weight_map + "}");
}

float at(const TensorView& v, std::size_t i) {
  float x;
  std::memcpy(&x, v.data + 4 * i, 4);
  return x;
}

}  // namespace

TEST_CASE("checkpoint from model.safetensors or the only .safetensors file", "[safetensors][checkpoint]") {
  TempDir dir;
  write_file(dir / "weights.safetensors", {{"a", DType::F32, {2}, kA, sizeof kA}});
  auto c = Checkpoint::open(dir.path());
  CHECK(c.names() == std::vector<std::string>{"a"});
  CHECK(at(c.get("a"), 1) == 2.0f);

  write_file(dir / "model.safetensors", {{"b", DType::F32, {3}, kB, sizeof kB}});
  auto m = Checkpoint::open(dir.path());  // model.safetensors wins over the other file
  CHECK(m.names() == std::vector<std::string>{"b"});
  CHECK(m.files().size() == 1);
}

TEST_CASE("checkpoint directory errors", "[safetensors][checkpoint]") {
  TempDir dir;
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), dir.path().string(), "no .safetensors file");
  REQUIRE_ST_ERROR(Checkpoint::open(dir / "nope"), "nope", "not a directory");
  two_shards(dir);
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), "s1.safetensors", "s2.safetensors");
}

TEST_CASE("sharded checkpoint through the index", "[safetensors][checkpoint]") {
  TempDir dir;
  two_shards(dir);
  index(dir, R"({"a":"s1.safetensors","b":"s2.safetensors","c":"s2.safetensors"})");
  auto c = Checkpoint::open(dir.path());
  CHECK(c.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(c.files().size() == 2);
  CHECK(at(c.get("b"), 2) == 5.0f);
  CHECK(c.contains("a"));
  CHECK_FALSE(c.contains("extra"));  // in a shard but not in the weight_map: ignored
  REQUIRE_ST_ERROR(c.get("extra"), "tensor 'extra'", "not found");

  TensorView v = c.get("a");
  c = Checkpoint{};  // views outlive the checkpoint
  CHECK(at(v, 0) == 1.0f);
  CHECK(v.info->name == "a");
}

TEST_CASE("a custom index name (AWQ in-place layout)", "[safetensors][checkpoint]") {
  TempDir dir;
  two_shards(dir);
  index(dir, R"({"a":"s1.safetensors"})", "model-AWQ.safetensors.index.json");
  auto c = Checkpoint::open(dir.path(), "model-AWQ.safetensors.index.json");
  CHECK(c.names() == std::vector<std::string>{"a"});
}

TEST_CASE("index errors name the index, the tensor and the file", "[safetensors][checkpoint]") {
  TempDir dir;
  two_shards(dir);
  const std::string idx = (dir / "model.safetensors.index.json").string();
  write_bytes(dir / "model.safetensors.index.json", "{\"weight_map\": {");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), idx, "not valid JSON");
  write_bytes(dir / "model.safetensors.index.json", "[]");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), idx, "not a JSON object");
  write_bytes(dir / "model.safetensors.index.json", R"({"metadata":{}})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), idx, "weight_map");
  index(dir, R"({"a":"s1.safetensors","a":"s2.safetensors"})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), idx, "duplicate key \"a\"");
  index(dir, R"({"a":1})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), idx, "tensor 'a'");
  index(dir, R"({"a":"s1.safetensors","b":"gone.safetensors"})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), "tensor 'b'", "\"gone.safetensors\", which does not exist");
  index(dir, R"({"a":"s1.safetensors","b":"s1.safetensors"})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), "tensor 'b'", "\"s1.safetensors\", which does not contain it");
  for (const char* escape : {"../s1.safetensors", "/etc/passwd", "sub/../../s1.safetensors", ""}) {
    INFO(escape);
    index(dir, std::string(R"({"a":")") + escape + "\"}");
    REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), "tensor 'a'", "not a plain path inside the model directory");
  }
  // A corrupt shard: the error names the shard file.
  write_bytes(dir / "s2.safetensors", "short");
  index(dir, R"({"a":"s1.safetensors","b":"s2.safetensors"})");
  REQUIRE_ST_ERROR(Checkpoint::open(dir.path()), (dir / "s2.safetensors").string(), "shorter");
}

TEST_CASE("open_files rejects a tensor present in two files", "[safetensors][checkpoint]") {
  TempDir dir;
  write_file(dir / "x.safetensors", {{"a", DType::F32, {2}, kA, sizeof kA}});
  write_file(dir / "y.safetensors", {{"a", DType::F32, {2}, kA, sizeof kA}});
  REQUIRE_ST_ERROR(Checkpoint::open_files({dir / "x.safetensors", dir / "y.safetensors"}), "tensor 'a'",
                   "x.safetensors");
}

TEST_CASE("released pages read back the same bytes; the file is untouched", "[safetensors][checkpoint]") {
  TempDir dir;
  std::vector<float> big(1 << 16);  // 256 KiB: many whole pages inside the tensor
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.5f;
  write_file(dir / "model.safetensors",
             {{"small", DType::F32, {2}, kA, sizeof kA}, {"big", DType::F32, {int64_t(big.size())}, big.data(), big.size() * 4}});
  const auto before = std::filesystem::file_size(dir / "model.safetensors");
  auto c = Checkpoint::open(dir.path());
  const TensorView v = c.get("big");
  CHECK(at(v, 12345) == 12345 * 0.5f);  // resident now
  c.release_pages("big");
  c.release_pages("small");       // less than a page: nothing to drop
  c.release_pages("not there");   // unknown names are ignored
  CHECK(std::memcmp(v.data, big.data(), big.size() * 4) == 0);  // faulted back in from the file
  CHECK(at(c.get("small"), 1) == 2.0f);
  CHECK(std::filesystem::file_size(dir / "model.safetensors") == before);
}
