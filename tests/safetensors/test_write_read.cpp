// write_file -> SafetensorsFile round trips, the exact byte layout, ordering and atomicity.
#include <signal.h>
#include <sys/resource.h>

#include <cstring>
#include <random>

#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "st_test_util.hpp"

using namespace qf::st;
using namespace qf::st::test;

namespace {

std::vector<char> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<char> v(n);
  for (auto& c : v) c = char(rng() & 0xff);
  return v;
}

const DType kAll[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                      DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};

}  // namespace

TEST_CASE("golden: a one-tensor file is byte-for-byte the documented safetensors layout", "[safetensors][writer]") {
  TempDir dir;
  const float values[2] = {1.0f, 2.0f};
  write_file(dir / "one.safetensors", {{"a", DType::F32, {2}, values, sizeof values}});
  // Built by hand from the format (docs/formats.md#safetensors): 85 bytes of compact JSON + 3 spaces
  // = 88 = 0x58, then LE floats.
  const std::string json = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  REQUIRE(json.size() == 85);
  const std::string expected = std::string("\x58\0\0\0\0\0\0\0", 8) + json + "   " +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  CHECK(read_bytes(dir / "one.safetensors") == expected);
  CHECK(encode_file_header({{"a", DType::F32, {2}, values, sizeof values}}) == expected.substr(0, 8 + 88));
}

TEST_CASE("every dtype round trips through write_file and the reader", "[safetensors][writer][reader]") {
  TempDir dir;
  std::vector<std::vector<char>> store;
  std::vector<TensorRef> refs;
  unsigned seed = 1;
  for (DType t : kAll) {
    const std::string n(dtype_name(t));
    for (const auto& shape : std::vector<std::vector<int64_t>>{{3, 2}, {}, {0, 4}, {5}}) {
      const std::size_t bytes = *byte_size(t, shape);
      store.push_back(random_bytes(bytes, seed++));
      refs.push_back({n + ".r" + std::to_string(shape.size()) + (bytes ? "" : ".empty"), t, shape, store.back().data(),
                      bytes});
    }
  }
  const auto path = dir / "all.safetensors";
  write_file(path, refs, {{"note", "hello"}});

  auto f = SafetensorsFile::open(path);
  REQUIRE(f->header().tensors.size() == refs.size());
  CHECK(f->header().metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "hello"}});
  for (const auto& r : refs) {
    const TensorInfo* info = f->find(r.name);
    REQUIRE(info);
    CHECK(info->dtype == r.dtype);
    CHECK(info->shape == r.shape);
    CHECK(info->nbytes() == r.nbytes);
    CHECK(info->numel() * dtype_size(r.dtype) == r.nbytes);
    auto view = f->view(*info);
    CHECK(view.info == info);
    if (r.nbytes > 0) CHECK(std::memcmp(view.data, r.data, r.nbytes) == 0);  // empty vectors give null data
  }
  CHECK(f->find("missing") == nullptr);
}

TEST_CASE("header is padded with spaces to a multiple of 8 and starts with __metadata__", "[safetensors][writer]") {
  TempDir dir;
  std::vector<char> data(64);
  for (std::size_t len = 1; len <= 16; ++len) {  // name lengths walk through every padding remainder
    const auto path = dir / ("p" + std::to_string(len) + ".safetensors");
    write_file(path, {{std::string(len, 'w'), DType::U8, {int64_t(len)}, data.data(), len}});
    const std::string bytes = read_bytes(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[std::size_t(i)]);
    CHECK(n % 8 == 0);
    const std::string header = bytes.substr(8, n);
    CHECK(header.rfind(R"({"__metadata__":{"format":"pt"},)", 0) == 0);
    const auto close = header.find_last_of('}');
    CHECK(header.find_first_not_of(' ', close + 1) == std::string::npos);
    CHECK(header.size() - close - 1 < 8);
    CHECK(bytes.size() == 8 + n + len);
  }
}

TEST_CASE("tensors are ordered by dtype rank descending, then name", "[safetensors][writer]") {
  TempDir dir;
  std::vector<char> data(64);
  const std::vector<std::pair<std::string, DType>> in = {
      {"b", DType::F16}, {"a", DType::F16}, {"z", DType::I64},  {"c", DType::F32},   {"m", DType::I32},
      {"k", DType::BF16}, {"x", DType::F64}, {"y", DType::BOOL}, {"u", DType::U8},    {"i8", DType::I8},
      {"i16", DType::I16}, {"B", DType::F16}, {"a.10", DType::F16}, {"a.9", DType::F16}};
  std::vector<TensorRef> refs;
  for (const auto& [name, t] : in) refs.push_back({name, t, {2}, data.data(), 2 * dtype_size(t)});
  write_file(dir / "o.safetensors", refs);
  auto f = SafetensorsFile::open(dir / "o.safetensors");
  std::vector<std::string> got;
  for (const auto& t : f->header().tensors) got.push_back(t.name);  // offset order
  // Names compare bytewise as Rust String does: "B" < "a" < "a.10" < "a.9" < "b".
  CHECK(got == std::vector<std::string>{"z", "x", "c", "m", "k", "B", "a", "a.10", "a.9", "b", "i16", "i8", "u", "y"});
  // The JSON keys appear in the same order as the data.
  const std::string text = read_bytes(dir / "o.safetensors");
  std::size_t pos = 0;
  for (const auto& n : got) {
    const auto at = text.find("\"" + n + "\":{\"dtype\"", pos);
    REQUIRE(at != std::string::npos);
    pos = at;
  }
}

TEST_CASE("write_file metadata: format first, caller's format kept", "[safetensors][writer]") {
  const std::string h1 = encode_file_header({}, {{"a", "1"}, {"z", "2"}});
  CHECK(h1.substr(8).rfind(R"({"__metadata__":{"format":"pt","a":"1","z":"2"}})", 0) == 0);
  const std::string h2 = encode_file_header({}, {{"a", "1"}, {"format", "np"}});
  CHECK(h2.substr(8).rfind(R"({"__metadata__":{"format":"np","a":"1"}})", 0) == 0);
}

TEST_CASE("write_file rejects bad tensors before creating anything", "[safetensors][writer]") {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  std::vector<char> data(16);
  REQUIRE_ST_ERROR(write_file(path, {{"w", DType::F32, {3}, data.data(), 16}}), path.string(), "'w'");
  REQUIRE_ST_ERROR(write_file(path, {{"w", DType::U8, {2}, data.data(), 2}, {"w", DType::F16, {1}, data.data(), 2}}),
                   path.string(), "'w' is given twice");
  REQUIRE_ST_ERROR(write_file(path, {{"__metadata__", DType::U8, {1}, data.data(), 1}}), path.string(), "reserved");
  REQUIRE_ST_ERROR(write_file(path, {{"bad\xff", DType::U8, {1}, data.data(), 1}}), path.string(), "UTF-8");
  REQUIRE_ST_ERROR(write_file(path, {{"neg", DType::U8, {-1}, data.data(), 0}}), path.string(), "'neg'");
  REQUIRE_ST_ERROR(write_file(path, {{"null", DType::U8, {1}, nullptr, 1}}), path.string(), "'null'");
  REQUIRE_ST_ERROR(write_file(path, {}, {{"k", "\xfe"}}), path.string(), "UTF-8");
  CHECK(dir.count() == 0);
}

TEST_CASE("a write that fails midway leaves neither the final file nor a temp file", "[safetensors][writer]") {
  TempDir dir;
  const auto path = dir / "big.safetensors";
  write_bytes(path, "old contents");  // an earlier file at the final path stays intact
  std::vector<char> data(1 << 16);
  // RLIMIT_FSIZE turns the data write into EFBIG (SIGXFSZ ignored): a real I/O error on demand.
  rlimit old{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto prev = signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool threw_qf = false;
  try {
    write_file(path, {{"w", DType::U8, {int64_t(data.size())}, data.data(), data.size()}});
  } catch (const qf::Error& e) {
    threw_qf = std::string(e.what()).find(path.string()) != std::string::npos;
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  CHECK(threw_qf);
  CHECK(read_bytes(path) == "old contents");
  CHECK(dir.count() == 1);
}

TEST_CASE("write_file replaces an existing file and leaves no temp file", "[safetensors][writer]") {
  TempDir dir;
  const auto path = dir / "m.safetensors";
  write_bytes(path, "junk");
  const int32_t v = 7;
  write_file(path, {{"v", DType::I32, {}, &v, 4}});
  CHECK(dir.count() == 1);
  auto f = SafetensorsFile::open(path);
  CHECK(*reinterpret_cast<const int32_t*>(f->view(*f->find("v")).data) == 7);
}

TEST_CASE("views keep their map and header alive after the file object is gone", "[safetensors][reader]") {
  TempDir dir;
  const int64_t v[3] = {1, -2, 3};
  write_file(dir / "k.safetensors", {{"v", DType::I64, {3}, v, sizeof v}});
  TensorView view;
  {
    auto f = SafetensorsFile::open(dir / "k.safetensors");
    view = f->view(*f->find("v"));
  }
  CHECK(view.owner.use_count() >= 1);
  CHECK(reinterpret_cast<const int64_t*>(view.data)[1] == -2);
  CHECK(view.info->name == "v");  // the header lives as long as the view too
  CHECK(view.info->shape == std::vector<int64_t>{3});
}
