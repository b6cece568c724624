// ShardedWriter: huggingface_hub's greedy split, file names, shard contents and the index.
#include <cstring>
#include <numeric>

#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "st_test_util.hpp"

using namespace qf::st;
using namespace qf::st::test;

namespace {

// Adds U8 tensors of the given sizes named t0, t1, ... with bytes equal to their index.
std::vector<std::vector<char>> add_sizes(ShardedWriter& w, const std::vector<int64_t>& sizes) {
  std::vector<std::vector<char>> data;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    data.emplace_back(std::size_t(sizes[i]), char(i + 1));
    w.add("t" + std::to_string(i), DType::U8, {sizes[i]}, data.back().data(), data.back().size());
  }
  return data;
}

std::vector<std::vector<std::string>> names_of(const std::vector<ShardInfo>& shards) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : shards) out.push_back(s.names);
  return out;
}

auto hf_names(const TempDir& dir) {
  return [&dir](std::size_t i, std::size_t n) { return dir / shard_file_name("model", "", i, n); };
}

}  // namespace

TEST_CASE("shard_file_name follows Hugging Face naming", "[safetensors][shards]") {
  CHECK(shard_file_name("model", "", 0, 1) == "model.safetensors");
  CHECK(shard_file_name("model", "", 0, 2) == "model-00001-of-00002.safetensors");
  CHECK(shard_file_name("model", "", 11, 12) == "model-00012-of-00012.safetensors");
  CHECK(shard_file_name("model", "-AWQ", 0, 2) == "model-00001-of-00002-AWQ.safetensors");
  CHECK(shard_file_name("model", "-AWQ", 0, 1) == "model-AWQ.safetensors");
}

TEST_CASE("greedy split in arrival order", "[safetensors][shards]") {
  TempDir dir;
  ShardedWriter w(100, dir.path());
  add_sizes(w, {40, 40, 40, 60, 50, 50});
  auto shards = w.finish(hf_names(dir));
  // 40+40 | 40+60 (=100 fits: only "> max" splits) | 50+50
  CHECK(names_of(shards) == std::vector<std::vector<std::string>>{{"t0", "t1"}, {"t2", "t3"}, {"t4", "t5"}});
  CHECK(shards[1].data_bytes == 100);
  CHECK(shards[0].path == dir / "model-00001-of-00003.safetensors");
  CHECK(shards[2].path == dir / "model-00003-of-00003.safetensors");
}

TEST_CASE("an oversize tensor goes alone, ahead of the open shard (as huggingface_hub)", "[safetensors][shards]") {
  TempDir dir;
  ShardedWriter w(100, dir.path());
  add_sizes(w, {10, 250, 20, 90});
  auto shards = w.finish(hf_names(dir));
  CHECK(names_of(shards) == std::vector<std::vector<std::string>>{{"t1"}, {"t0", "t2"}, {"t3"}});
  auto f = SafetensorsFile::open(shards[0].path);
  CHECK(f->find("t1")->nbytes() == 250);
}

TEST_CASE("one shard is model.safetensors; contents and reference order inside", "[safetensors][shards]") {
  TempDir dir;
  ShardedWriter w(1000, dir.path(), {{"quantized_by", "quantforge"}});
  const float f32[2] = {1.5f, -2.5f};
  const int32_t i32[3] = {1, 2, 3};
  const uint16_t f16[1] = {0x3c00};
  w.add("z.scales", DType::F16, {1}, f16, 2);
  w.add("b.qweight", DType::I32, {3}, i32, 12);
  w.add("a.weight", DType::F32, {2}, f32, 8);
  CHECK(w.tensor_count() == 3);
  CHECK(w.total_bytes() == 22);
  auto shards = w.finish(hf_names(dir));
  REQUIRE(shards.size() == 1);
  CHECK(shards[0].path == dir / "model.safetensors");
  CHECK(shards[0].names == std::vector<std::string>{"z.scales", "b.qweight", "a.weight"});
  CHECK(dir.count() == 1);  // the spool never shows up, and no temp files are left

  // Same bytes as write_file would produce for the same tensors.
  const std::string once = (dir / "once.safetensors").string();
  write_file(once, {{"a.weight", DType::F32, {2}, f32, 8}, {"b.qweight", DType::I32, {3}, i32, 12},
                    {"z.scales", DType::F16, {1}, f16, 2}},
             {{"quantized_by", "quantforge"}});
  CHECK(read_bytes(shards[0].path) == read_bytes(once));
  auto f = SafetensorsFile::open(shards[0].path);
  CHECK(f->header().tensors[0].name == "a.weight");  // F32 > I32 > F16
  CHECK(std::memcmp(f->view(*f->find("b.qweight")).data, i32, 12) == 0);
}

TEST_CASE("shards round trip through the index and Checkpoint", "[safetensors][shards][checkpoint]") {
  TempDir dir;
  ShardedWriter w(64, dir.path());
  auto data = add_sizes(w, {30, 30, 30, 100, 5});
  auto shards = w.finish([&](std::size_t i, std::size_t n) { return dir / shard_file_name("model", "-AWQ", i, n); });
  REQUIRE(shards.size() == 3);
  CHECK(names_of(shards) == std::vector<std::vector<std::string>>{{"t0", "t1"}, {"t3"}, {"t2", "t4"}});
  write_index(dir / "model-AWQ.safetensors.index.json", shards);
  CHECK(read_bytes(dir / "model-AWQ.safetensors.index.json") ==
        "{\n"
        "  \"metadata\": {\n"
        "    \"total_size\": 195\n"
        "  },\n"
        "  \"weight_map\": {\n"
        "    \"t0\": \"model-00001-of-00003-AWQ.safetensors\",\n"
        "    \"t1\": \"model-00001-of-00003-AWQ.safetensors\",\n"
        "    \"t2\": \"model-00003-of-00003-AWQ.safetensors\",\n"
        "    \"t3\": \"model-00002-of-00003-AWQ.safetensors\",\n"
        "    \"t4\": \"model-00003-of-00003-AWQ.safetensors\"\n"
        "  }\n"
        "}\n");
  auto c = Checkpoint::open(dir.path(), "model-AWQ.safetensors.index.json");
  REQUIRE(c.names().size() == 5);
  for (std::size_t i = 0; i < data.size(); ++i) {
    auto v = c.get("t" + std::to_string(i));
    CHECK(std::memcmp(v.data, data[i].data(), data[i].size()) == 0);
  }
}

TEST_CASE("write_index sorts keys and escapes non-ASCII like Python json", "[safetensors][shards]") {
  TempDir dir;
  write_index(dir / "i.json", 7, {{"b", "f2"}, {"a\xc3\xa9", "f1"}});
  CHECK(read_bytes(dir / "i.json") ==
        "{\n  \"metadata\": {\n    \"total_size\": 7\n  },\n  \"weight_map\": {\n"
        "    \"a\\u00e9\": \"f1\",\n    \"b\": \"f2\"\n  }\n}\n");
  write_index(dir / "e.json", 0, {});
  CHECK(read_bytes(dir / "e.json") == "{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {}\n}\n");
}

TEST_CASE("sharded writer errors", "[safetensors][shards]") {
  TempDir dir;
  ShardedWriter w(100, dir.path());
  const char b[4] = {};
  w.add("a", DType::U8, {4}, b, 4);
  REQUIRE_ST_ERROR(w.add("a", DType::U8, {4}, b, 4), "tensor 'a'", "twice");
  REQUIRE_ST_ERROR(w.add("c", DType::F32, {2}, b, 4), "tensor 'c'", "needs 8");
  CHECK(w.tensor_count() == 1);
  CHECK(w.total_bytes() == 4);
  auto shards = w.finish(hf_names(dir));
  CHECK(shards.size() == 1);
  REQUIRE_ST_ERROR(w.add("d", DType::U8, {1}, b, 1), "tensor 'd'", "after finish");
  REQUIRE_THROWS_AS(w.finish(hf_names(dir)), qf::Error);
  REQUIRE_THROWS_AS(ShardedWriter(1, dir / "no-such-dir"), qf::Error);
}

TEST_CASE("an empty sharded writer writes one valid empty file", "[safetensors][shards]") {
  TempDir dir;
  ShardedWriter w(100, dir.path());
  auto shards = w.finish(hf_names(dir));
  REQUIRE(shards.size() == 1);
  CHECK(shards[0].names.empty());
  auto f = SafetensorsFile::open(dir / "model.safetensors");
  CHECK(f->header().tensors.empty());
  CHECK(f->header().metadata.at("format") == "pt");
}
