// A small GGUF v3 reader for tests, written from the file layout (not from our writer): metadata
// values as text or numbers, tensor infos, and each tensor's bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace qf::test {

struct GgufTensor {
  std::vector<uint64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

struct GgufValue {
  uint32_t type = 0;
  std::string text;               // strings
  double number = 0;              // numbers and bools
  std::vector<std::string> items; // arrays of strings
  std::vector<double> numbers;    // arrays of numbers
  uint32_t element_type = 0;      // arrays: the elements' value type
};

struct GgufContents {
  std::vector<std::string> keys;  // in file order
  std::map<std::string, GgufValue> values;
  std::vector<std::string> tensor_names;  // in file order
  std::map<std::string, GgufTensor> tensors;
  uint64_t data_start = 0;
  std::vector<uint8_t> bytes;  // the whole file

  const uint8_t* data(const std::string& name) const { return bytes.data() + data_start + tensors.at(name).offset; }
};

inline GgufContents read_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  GgufContents c;
  c.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  size_t pos = 0;
  const auto take = [&](void* out, size_t n) {
    if (pos + n > c.bytes.size()) throw std::runtime_error("GGUF truncated");
    std::memcpy(out, c.bytes.data() + pos, n);
    pos += n;
  };
  const auto u32 = [&] { uint32_t v; take(&v, 4); return v; };
  const auto u64 = [&] { uint64_t v; take(&v, 8); return v; };
  const auto str = [&] {
    std::string s(u64(), '\0');
    take(s.data(), s.size());
    return s;
  };
  const auto scalar = [&](uint32_t t) -> double {
    switch (t) {
      case 0: { uint8_t v; take(&v, 1); return v; }
      case 1: { int8_t v; take(&v, 1); return v; }
      case 2: { uint16_t v; take(&v, 2); return v; }
      case 3: { int16_t v; take(&v, 2); return v; }
      case 4: return u32();
      case 5: { int32_t v; take(&v, 4); return v; }
      case 6: { float v; take(&v, 4); return v; }
      case 7: { uint8_t v; take(&v, 1); return v; }
      case 10: return static_cast<double>(u64());
      case 11: { int64_t v; take(&v, 8); return static_cast<double>(v); }
      case 12: { double v; take(&v, 8); return v; }
    }
    throw std::runtime_error("GGUF value type " + std::to_string(t));
  };
  if (u32() != 0x46554747u) throw std::runtime_error("not a GGUF file");
  if (u32() != 3) throw std::runtime_error("not GGUF v3");
  const uint64_t n_tensors = u64(), n_kv = u64();
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = str();
    GgufValue v;
    v.type = u32();
    if (v.type == 8) {
      v.text = str();
    } else if (v.type == 9) {
      const uint32_t et = u32();
      v.element_type = et;
      const uint64_t n = u64();
      for (uint64_t k = 0; k < n; ++k) {
        if (et == 8) v.items.push_back(str());
        else v.numbers.push_back(scalar(et));
      }
    } else {
      v.number = scalar(v.type);
    }
    c.keys.push_back(key);
    c.values[key] = v;
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string name = str();
    GgufTensor t;
    const uint32_t dims = u32();
    for (uint32_t d = 0; d < dims; ++d) t.ne.push_back(u64());
    t.type = u32();
    t.offset = u64();
    c.tensor_names.push_back(name);
    c.tensors[name] = t;
  }
  c.data_start = (pos + 31) / 32 * 32;
  return c;
}

}  // namespace qf::test
