// The SDK's safetensors helpers on their own: header bytes against a worked example, the atomic
// writer on failure, shards from the spool, and the index text.
#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "quantforge/safetensors_writer.hpp"
#include "sdk_temp_dir.hpp"

namespace st = qf::sdk::st;
using sdk_test::read_bytes;
using sdk_test::TempDir;

TEST_CASE("dtype table: names, sizes and DLPack types", "[sdk][safetensors]") {
  CHECK(st::dtype_name(st::DType::BF16) == "BF16");
  CHECK(st::dtype_size(st::DType::I32) == 4);
  CHECK(st::parse_dtype("U8") == st::DType::U8);
  CHECK_FALSE(st::parse_dtype("F8_E4M3").has_value());
  CHECK(st::byte_size(st::DType::F16, {3, 5}) == 30u);
  CHECK_FALSE(st::byte_size(st::DType::F64, {int64_t(1) << 62, 4}).has_value());  // overflow
  CHECK(st::dtype_from_dlpack({kDLBfloat, 16, 1}, "t") == st::DType::BF16);
  CHECK(st::dtype_from_dlpack({kDLInt, 8, 1}, "t") == st::DType::I8);
  REQUIRE_THROWS_WITH(st::dtype_from_dlpack({kDLFloat, 8, 1}, "w"), Catch::Contains("w: dtype code"));
}

TEST_CASE("header bytes: the worked example, computed by hand", "[sdk][safetensors]") {
  // {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 85
  // bytes; 3 spaces pad it to 88 = 0x58, the little-endian length in the first 8 bytes.
  const float v[2] = {1.0f, 2.0f};
  const std::string json = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(json.size() == 85);
  CHECK(st::encode_file_header({{"a", st::DType::F32, {2}, v, sizeof v}}) ==
        std::string("\x58\0\0\0\0\0\0\0", 8) + json + "   ");

  // Two tensors: F32 (rank 7) comes before I32 (rank 6) whatever the names; offsets follow.
  const int32_t i[3] = {1, 2, 3};
  const std::string h = st::encode_file_header({{"a.qweight", st::DType::I32, {3}, i, 12},
                                                {"z.norm", st::DType::F32, {2}, v, 8}},
                                               {{"note", "x"}});
  const std::string json2 =
      R"({"__metadata__":{"format":"pt","note":"x"},"z.norm":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a.qweight":{"dtype":"I32","shape":[3],"data_offsets":[8,20]}})";
  REQUIRE(json2.size() == 163);  // 163 + 5 spaces = 168 = 0xa8
  CHECK(h == std::string("\xa8\0\0\0\0\0\0\0", 8) + json2 + "     ");
  CHECK(h.size() % 8 == 0);
}

TEST_CASE("header errors name the file and the tensor", "[sdk][safetensors]") {
  const char b[8] = {};
  REQUIRE_THROWS_WITH(st::encode_file_header({{"w", st::DType::F32, {3}, b, 8}}, {}, "f.st"),
                      Catch::Contains("f.st: tensor 'w'") && Catch::Contains("needs 12"));
  REQUIRE_THROWS_AS(st::encode_file_header({{"w", st::DType::U8, {1}, b, 1}, {"w", st::DType::I8, {1}, b, 1}}),
                    std::invalid_argument);
  REQUIRE_THROWS_WITH(st::encode_file_header({}, {{"k", "\xfe"}}, "m.st"), Catch::Contains("m.st: metadata"));
}

TEST_CASE("the atomic writer leaves no file when a write fails or commit never comes", "[sdk][safetensors]") {
  TempDir dir;
  {
    qf::sdk::AtomicFile f(dir / "never.json");
    f.write("partial", 7);
    CHECK(dir.count() == 1);  // only the temporary file, beside the destination
  }
  CHECK(dir.count() == 0);

  // RLIMIT_FSIZE turns the write into EFBIG (SIGXFSZ ignored): a real I/O error on demand.
  std::vector<char> data(1 << 16);
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto prev = signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  int32_t code = QF_OK;
  std::string message;
  try {
    st::write_file(dir / "big.safetensors", {{"w", st::DType::U8, {int64_t(data.size())}, data.data(), data.size()}});
  } catch (const qf::sdk::PluginError& e) {
    code = e.code();
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  CHECK(code == QF_ERR_IO);
  CHECK(message.find(dir / "big.safetensors") != std::string::npos);
  CHECK(dir.count() == 0);

  REQUIRE_THROWS_AS(qf::sdk::AtomicFile(dir / "no-such-dir/x"), qf::sdk::PluginError);
  qf::sdk::write_file_atomically(dir / "ok.txt", "done");
  CHECK(read_bytes(dir / "ok.txt") == "done");
  CHECK(dir.count() == 1);
}

TEST_CASE("sharded writer: greedy shards from the spool, the spool gone from the folder", "[sdk][safetensors]") {
  TempDir dir;
  st::ShardedWriter w(64, dir / "spool");
  CHECK(dir.count() == 0);  // the spool's name is removed at once
  std::vector<std::vector<char>> data;
  int k = 0;
  for (std::size_t size : {30, 30, 30, 100, 5}) {
    data.emplace_back(size, char('a' + k));
    w.add("t" + std::to_string(k++), st::DType::U8, {int64_t(size)}, data.back().data(), size);
  }
  REQUIRE_THROWS_WITH(w.add("t0", st::DType::U8, {1}, "x", 1), Catch::Contains("'t0' is added twice"));
  const auto shards = w.finish([&](std::size_t i, std::size_t n) { return dir / st::shard_file_name("model", "", i, n); });
  REQUIRE(shards.size() == 3);
  CHECK(shards[0].names == std::vector<std::string>{"t0", "t1"});
  CHECK(shards[1].names == std::vector<std::string>{"t3"});  // too big: its own shard, ahead of the open one
  CHECK(shards[2].names == std::vector<std::string>{"t2", "t4"});
  CHECK(shards[2].data_bytes == 35);
  const std::string third = read_bytes(dir / "model-00003-of-00003.safetensors");
  CHECK(third.substr(third.size() - 35) == std::string(30, 'c') + std::string(5, 'e'));
  REQUIRE_THROWS_AS(w.finish([&](std::size_t, std::size_t) { return dir / "x"; }), std::logic_error);

  st::write_index(dir / "model.safetensors.index.json", shards);
  CHECK(read_bytes(dir / "model.safetensors.index.json") ==
        "{\n  \"metadata\": {\n    \"total_size\": 195\n  },\n  \"weight_map\": {\n"
        "    \"t0\": \"model-00001-of-00003.safetensors\",\n    \"t1\": \"model-00001-of-00003.safetensors\",\n"
        "    \"t2\": \"model-00003-of-00003.safetensors\",\n    \"t3\": \"model-00002-of-00003.safetensors\",\n"
        "    \"t4\": \"model-00003-of-00003.safetensors\"\n  }\n}\n");
}

TEST_CASE("index json: sorted keys, ASCII escapes, final newline; bad UTF-8 named", "[sdk][safetensors]") {
  CHECK(st::index_json(7, {{"b", "f2"}, {"a\xc3\xa9", "f1"}}) ==
        "{\n  \"metadata\": {\n    \"total_size\": 7\n  },\n  \"weight_map\": {\n"
        "    \"a\\u00e9\": \"f1\",\n    \"b\": \"f2\"\n  }\n}\n");
  CHECK(st::index_json(0, {}) == "{\n  \"metadata\": {\n    \"total_size\": 0\n  },\n  \"weight_map\": {}\n}\n");
  REQUIRE_THROWS_WITH(st::index_json(1, {{"\xff", "f"}}, "i.json"), Catch::Contains("i.json: a tensor or file name"));
}
