// Files the SDK writes (what format plugins use) read back through the host's reader unchanged.
#include <cstring>

#include "quantforge/safetensors_writer.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "st_test_util.hpp"

using namespace qf::st::test;
namespace sdk_st = qf::sdk::st;

TEST_CASE("SDK write_file and ShardedWriter round trip through the host reader", "[safetensors][sdk]") {
  TempDir dir;
  const float f[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
  const int32_t q[4] = {1, -1, 1 << 30, 0};
  const uint16_t h[2] = {0x3c00, 0xbc00};
  const std::vector<sdk_st::TensorRef> refs = {{"w.scales", sdk_st::DType::F16, {2}, h, 4},
                                               {"w.qweight", sdk_st::DType::I32, {2, 2}, q, 16},
                                               {"norm.weight", sdk_st::DType::F32, {2, 3}, f, 24}};
  sdk_st::write_file((dir / "one.safetensors").string(), refs, {{"k", "v\xc3\xa9"}});
  auto file = qf::st::SafetensorsFile::open(dir / "one.safetensors");
  REQUIRE(file->header().tensors.size() == 3);
  CHECK(file->header().tensors[0].name == "norm.weight");  // F32 > I32 > F16
  CHECK(file->header().metadata.at("k") == "v\xc3\xa9");
  for (const auto& r : refs) {
    const auto v = file->view(*file->find(r.name));
    CHECK(std::memcmp(v.data, r.data, r.nbytes) == 0);
    CHECK(v.info->shape == r.shape);
  }
  // The host's own writer is the SDK's: the same call gives the same bytes.
  std::vector<qf::st::TensorRef> host_refs;
  for (const auto& r : refs) host_refs.push_back({r.name, r.dtype, r.shape, r.data, r.nbytes});
  qf::st::write_file(dir / "host.safetensors", host_refs, {{"k", "v\xc3\xa9"}});
  CHECK(read_bytes(dir / "host.safetensors") == read_bytes(dir / "one.safetensors"));

  sdk_st::ShardedWriter w(20, (dir / "spool").string());
  for (const auto& r : refs) w.add(r.name, r.dtype, r.shape, r.data, r.nbytes);
  const auto shards = w.finish([&](std::size_t i, std::size_t n) {
    return (dir / sdk_st::shard_file_name("model", "", i, n)).string();
  });
  REQUIRE(shards.size() == 2);
  sdk_st::write_index((dir / "model.safetensors.index.json").string(), shards);
  auto ckpt = qf::st::Checkpoint::open(dir.path(), "model.safetensors.index.json");
  REQUIRE(ckpt.names().size() == 3);
  for (const auto& r : refs) CHECK(std::memcmp(ckpt.get(r.name).data, r.data, r.nbytes) == 0);
}
