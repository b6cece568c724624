// Every malformed-input rule: a qf::Error that names the file and, where there is one, the tensor.
#include "safetensors/reader.hpp"
#include "st_test_util.hpp"

using namespace qf::st;
using namespace qf::st::test;

namespace {

const std::string F = "bad.safetensors";

// One U8 entry named w (shape and offsets as text) so each case reads as the JSON it tests.
std::string entry(const std::string& body) { return R"({"w":)" + body + "}"; }

}  // namespace

TEST_CASE("valid headers parse", "[safetensors][header]") {
  auto h = parse_header(R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                        R"("a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"e":{"dtype":"F16","shape":[0,3],"data_offsets":[16,16]}})",
                        16, F);
  REQUIRE(h.tensors.size() == 3);
  CHECK(h.tensors[0].name == "a");  // offset order
  CHECK(h.tensors[1].name == "b");
  CHECK(h.tensors[2].nbytes() == 0);
  CHECK(h.metadata.at("format") == "pt");
  CHECK(parse_header("{}", 0, F).tensors.empty());
  CHECK(parse_header("  {}   ", 0, F).tensors.empty());  // padding spaces around
  CHECK(parse_header(R"({"__metadata__":null})", 0, F).metadata.empty());
  // Unknown fields in an entry are ignored, as the reference's serde struct does.
  CHECK(parse_header(entry(R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":true})"), 1, F).tensors.size() == 1);
  // A scalar (shape []) holds one element.
  CHECK(parse_header(entry(R"({"dtype":"I64","shape":[],"data_offsets":[0,8]})"), 8, F).tensors[0].numel() == 1);
}

TEST_CASE("header JSON and structure errors", "[safetensors][header]") {
  REQUIRE_ST_ERROR(parse_header(R"({"w":)", 0, F), F, "not valid JSON");
  REQUIRE_ST_ERROR(parse_header("", 0, F), F, "not valid JSON");
  REQUIRE_ST_ERROR(parse_header("{} x", 0, F), F, "not valid JSON");
  REQUIRE_ST_ERROR(parse_header("[1,2]", 0, F), F, "not an object");
  REQUIRE_ST_ERROR(parse_header(R"("str")", 0, F), F, "not an object");
  REQUIRE_ST_ERROR(parse_header(entry("5"), 0, F), F, "tensor 'w': entry is a JSON number");
  REQUIRE_ST_ERROR(parse_header(entry("[]"), 0, F), F, "tensor 'w': entry is a JSON array");
  REQUIRE_ST_ERROR(parse_header(std::string(100, '[') + std::string(100, ']'), 0, F), F, "nesting");
}

TEST_CASE("entry field errors name the tensor", "[safetensors][header]") {
  REQUIRE_ST_ERROR(parse_header(entry(R"({"shape":[1],"data_offsets":[0,1]})"), 1, F), "tensor 'w'", "\"dtype\"");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"U8","data_offsets":[0,1]})"), 1, F), "tensor 'w'", "\"shape\"");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"U8","shape":[1]})"), 1, F), "tensor 'w'", "\"data_offsets\"");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":4,"shape":[1],"data_offsets":[0,1]})"), 1, F), "tensor 'w'",
                   "not a string");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"U8","shape":1,"data_offsets":[0,1]})"), 1, F), "tensor 'w'",
                   "not an array");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"U8","shape":[1],"data_offsets":{}})"), 1, F), "tensor 'w'",
                   "not an array");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]})"), 1, F),
                   "tensor 'w'", "unknown dtype \"F8_E4M3\"");
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"dtype":"I8"})"), 1, F), F,
                   "duplicate key \"dtype\" in \"w\"");
}

TEST_CASE("shape must hold non-negative integers", "[safetensors][header]") {
  for (const char* bad : {"[-1]", "[1.5]", "[2.0]", "[\"2\"]", "[null]", "[1e3]", "[99999999999999999999]",
                          "[9223372036854775808]", "[true]"}) {
    INFO(bad);
    REQUIRE_ST_ERROR(parse_header(entry(std::string(R"({"dtype":"U8","shape":)") + bad + R"(,"data_offsets":[0,0]})"),
                                  0, F),
                     "tensor 'w'", "\"shape\" holds");
  }
}

TEST_CASE("data_offsets rules", "[safetensors][header]") {
  auto u8 = [](const std::string& shape, const std::string& offs) {
    return R"({"dtype":"U8","shape":)" + shape + R"(,"data_offsets":)" + offs + "}";
  };
  REQUIRE_ST_ERROR(parse_header(entry(u8("[1]", "[0]")), 1, F), "tensor 'w'", "exactly 2");
  REQUIRE_ST_ERROR(parse_header(entry(u8("[1]", "[0,1,2]")), 1, F), "tensor 'w'", "exactly 2");
  REQUIRE_ST_ERROR(parse_header(entry(u8("[1]", "[-1,0]")), 1, F), "tensor 'w'", "not a non-negative integer");
  REQUIRE_ST_ERROR(parse_header(entry(u8("[0]", "[4,0]")), 4, F), "tensor 'w'", "begin after end");
  REQUIRE_ST_ERROR(parse_header(entry(u8("[4]", "[0,4]")), 3, F), "tensor 'w'", "past the data buffer (3 bytes)");
  REQUIRE_ST_ERROR(parse_header(entry(u8("[3]", "[0,4]")), 4, F), "tensor 'w'", "needs 3");
  // 4 x 2^62 x 4 wraps to 0: an unchecked product would accept an empty range.
  REQUIRE_ST_ERROR(parse_header(entry(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]})"), 0, F),
                   "tensor 'w'", "overflows");
  // Overlap, holes at the start, middle and end.
  REQUIRE_ST_ERROR(parse_header(R"({"a":)" + u8("[8]", "[0,8]") + R"(,"b":)" + u8("[8]", "[4,12]") + "}", 12, F),
                   "tensor 'b'", "overlap tensor 'a'");
  REQUIRE_ST_ERROR(parse_header(R"({"a":)" + u8("[8]", "[0,8]") + R"(,"z":)" + u8("[0]", "[4,4]") + "}", 8, F),
                   "tensor 'z'", "overlap tensor 'a'");
  REQUIRE_ST_ERROR(parse_header(R"({"a":)" + u8("[4]", "[2,6]") + "}", 6, F), "tensor 'a'", "hole");
  REQUIRE_ST_ERROR(parse_header(R"({"a":)" + u8("[4]", "[0,4]") + R"(,"b":)" + u8("[4]", "[6,10]") + "}", 10, F),
                   "tensor 'b'", "hole");
  REQUIRE_ST_ERROR(parse_header(R"({"a":)" + u8("[4]", "[0,4]") + "}", 6, F), F, "hole in the data buffer: bytes [4, 6]");
  REQUIRE_ST_ERROR(parse_header("{}", 1, F), F, "hole");
}

TEST_CASE("duplicate tensor names are errors, not last-one-wins", "[safetensors][header]") {
  const std::string e = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  REQUIRE_ST_ERROR(parse_header(R"({"w":)" + e + R"(,"w":)" + e + "}", 1, F), F, "duplicate key \"w\"");
}

TEST_CASE("__metadata__ must map strings to strings", "[safetensors][header]") {
  REQUIRE_ST_ERROR(parse_header(R"({"__metadata__":{"format":1}})", 0, F), F, "\"format\"");
  REQUIRE_ST_ERROR(parse_header(R"({"__metadata__":{"a":{"b":"c"}}})", 0, F), F, "not a string");
  REQUIRE_ST_ERROR(parse_header(R"({"__metadata__":"pt"})", 0, F), F, "not an object");
  REQUIRE_ST_ERROR(parse_header(R"({"__metadata__":{},"__metadata__":{}})", 0, F), F, "duplicate");
}

TEST_CASE("file-level errors name the file", "[safetensors][reader]") {
  TempDir dir;
  const auto p = dir / "f.safetensors";
  const std::string name = p.string();
  write_bytes(p, "");
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "shorter than the 8-byte header length");
  write_bytes(p, "abc");
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "shorter than the 8-byte header length");
  write_bytes(p, le64(100) + "{}");
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "beyond the end of the file");
  write_bytes(p, le64(uint64_t(1) << 40) + "{}");
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "absurd");
  write_bytes(p, le64(~uint64_t(0)) + "{}");  // 8 + n would wrap: must not pass as "fits"
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "absurd");
  write_bytes(p, raw_file("{\"w\":1}", ""));
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "tensor 'w'");
  write_bytes(p, raw_file(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "x"));
  REQUIRE_ST_ERROR(SafetensorsFile::open(p), name, "tensor 'w'");
  REQUIRE_ST_ERROR(SafetensorsFile::open(dir / "missing.safetensors"), "missing.safetensors", "cannot open");
  REQUIRE_ST_ERROR(SafetensorsFile::open(dir.path()), dir.path().string(), "not a regular file");
  // A hand-made valid file with an unpadded header is accepted (padding is the writer's duty).
  write_bytes(p, raw_file(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "xy"));
  auto f = SafetensorsFile::open(p);
  CHECK(std::string(reinterpret_cast<const char*>(f->view(*f->find("w")).data), 2) == "xy");
}
