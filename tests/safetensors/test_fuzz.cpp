// Seeded mutation fuzzing of parse_header: every input either parses into a self-consistent header
// or throws qf::Error. Anything else (another exception type, a crash) fails the test.
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "common/error.hpp"
#include "safetensors/reader.hpp"

using namespace qf::st;

namespace {

struct Seed {
  std::vector<std::string> entries;  // `"name":{...}` pieces, so structural mutations stay meaningful
  uint64_t data_size;
};

std::string entry(const std::string& name, const char* dtype, const std::string& shape, uint64_t b, uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(b) + "," + std::to_string(e) + "]}";
}

std::vector<Seed> seeds() {
  return {
      {{"\"__metadata__\":{\"format\":\"pt\"}", entry("a", "F32", "[2,3]", 0, 24), entry("b", "I32", "[4]", 24, 40),
        entry("c", "F16", "[3]", 40, 46), entry("d", "BOOL", "[0,7]", 46, 46)},
       46},
      {{entry("x.weight", "BF16", "[4,2]", 0, 16), entry("x.bias", "I64", "[]", 16, 24),
        entry("y", "U8", "[5]", 24, 29), entry("z", "I8", "[1,1,1]", 29, 30), entry("w", "F64", "[1]", 30, 38),
        entry("v", "I16", "[2]", 38, 42)},
       42},
      {{"\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\"}", entry("only", "F32", "[1]", 0, 4)}, 4},
      {{}, 0},
  };
}

std::string join(const std::vector<std::string>& parts) {
  std::string s = "{";
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? "," : "") + parts[i];
  return s + "}";
}

const std::vector<std::string> kNumbers = {"0",  "1",    "-1",  "1.5", "2e3", "7", "18446744073709551615",
                                           "18446744073709551616", "9223372036854775807", "4611686018427387904",
                                           "99999999999999999999999", "-0", "00", "46", "24", "40"};
const std::string kChars = "{}[]\",:0123456789-.e \\aFIU";

// Structural edits on the entry list (duplicate key, swapped offsets, dropped entry, swapped dtype).
void mutate_entries(std::vector<std::string>& e, std::mt19937& rng) {
  if (e.empty()) return;
  auto pick = [&] { return std::size_t(rng() % e.size()); };
  switch (rng() % 4) {
    case 0: e.push_back(e[pick()]); break;  // duplicated key
    case 1: {                               // swap the offsets of two entries
      auto& a = e[pick()];
      auto& b = e[pick()];
      auto pa = a.find("data_offsets"), pb = b.find("data_offsets");
      if (pa != std::string::npos && pb != std::string::npos) {
        std::string ta = a.substr(pa), tb = b.substr(pb);
        a = a.substr(0, pa) + tb;
        b = b.substr(0, pb) + ta;
      }
      break;
    }
    case 2: e.erase(e.begin() + long(pick())); break;
    case 3: std::swap(e[pick()], e[pick()]); break;  // reorder: must not matter
  }
}

void mutate_text(std::string& s, std::mt19937& rng) {
  if (s.empty()) {
    s = "{";
    return;
  }
  const std::size_t pos = rng() % s.size();
  switch (rng() % 6) {
    case 0: s[pos] = char(rng() & 0xff); break;                       // random byte
    case 1: s[pos] = kChars[rng() % kChars.size()]; break;            // JSON-ish byte
    case 2: s.resize(pos); break;                                     // truncation
    case 3: s.insert(pos, 1, kChars[rng() % kChars.size()]); break;   // insertion
    case 4: s.erase(pos, 1 + rng() % 4); break;                       // deletion
    case 5: {                                                         // number edit
      auto start = s.find_first_of("0123456789", pos);
      if (start == std::string::npos) break;
      auto end = s.find_first_not_of("0123456789", start);
      s.replace(start, (end == std::string::npos ? s.size() : end) - start, kNumbers[rng() % kNumbers.size()]);
      break;
    }
  }
}

// What a successful parse must guarantee to its users.
void check_consistent(const Header& h, uint64_t data_size, const std::string& input) {
  INFO(input);
  uint64_t covered = 0;
  std::set<std::string> names;
  for (const auto& t : h.tensors) {
    REQUIRE(names.insert(t.name).second);
    REQUIRE(t.begin == covered);
    REQUIRE(t.begin <= t.end);
    REQUIRE(t.end <= data_size);
    for (auto d : t.shape) REQUIRE(d >= 0);
    auto bytes = byte_size(t.dtype, t.shape);
    REQUIRE(bytes);
    REQUIRE(*bytes == t.nbytes());
    covered = t.end;
  }
  REQUIRE(covered == data_size);
}

}  // namespace

TEST_CASE("parse_header survives seeded mutations", "[safetensors][fuzz]") {
  std::mt19937 rng(20240611);
  const auto base = seeds();
  int parsed = 0, rejected = 0;
  // ~0.5 s here. No timing assertion: tests share 2 cores with other builds (the suite has no timed tests).
  for (int iter = 0; iter < 15000; ++iter) {
    Seed s = base[rng() % base.size()];
    if (rng() % 3 == 0) mutate_entries(s.entries, rng);
    std::string text = join(s.entries);
    for (int k = int(rng() % 4); k > 0; --k) mutate_text(text, rng);
    uint64_t size = s.data_size;
    if (rng() % 8 == 0) {  // a buffer a byte off, or any small size (0 - 1 wraps: a huge buffer too)
      const auto r = rng();
      size = r % 3 == 0 ? size + 1 : r % 3 == 1 ? size - 1 : r % 64;
    }
    try {
      check_consistent(parse_header(text, size, "fuzz.safetensors"), size, text);
      ++parsed;
    } catch (const qf::Error& e) {
      ++rejected;
      if (std::string(e.what()).find("fuzz.safetensors") == std::string::npos) FAIL("message without file: " << e.what());
    } catch (const std::exception& e) {
      FAIL("non-qf exception " << e.what() << " for input: " << text);
    }
  }
  INFO("parsed " << parsed << ", rejected " << rejected);
  CHECK(parsed > 100);  // the mutations must not be so wild that nothing valid survives
  CHECK(rejected > 1000);
}
