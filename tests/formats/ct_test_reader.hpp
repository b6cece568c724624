// A small safetensors reader for the compressed-tensors tests, written from the file layout (u64
// little-endian header length, JSON header, data buffer) and not from our writer or the host's reader.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qf::test {

struct RawTensor {
  std::string dtype;  // "I32", "BF16", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  template <class T>
  std::vector<T> values() const {
    if (bytes.size() % sizeof(T) != 0) throw std::runtime_error("tensor bytes are not whole elements");
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
};

// Every tensor of one safetensors file; checks that the data offsets tile the buffer.
inline std::map<std::string, RawTensor> read_safetensors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < 8) throw std::runtime_error(path.string() + ": shorter than the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<size_t>(i)];
  if (8 + n > file.size()) throw std::runtime_error(path.string() + ": header runs past the end");
  const auto header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  const size_t data = 8 + static_cast<size_t>(n);
  std::map<std::string, RawTensor> out;
  uint64_t covered = 0;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    RawTensor t;
    t.dtype = info.at("dtype").get<std::string>();
    t.shape = info.at("shape").get<std::vector<int64_t>>();
    const auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
    if (offsets.size() != 2 || offsets[0] > offsets[1] || data + offsets[1] > file.size())
      throw std::runtime_error(path.string() + ": bad data_offsets for " + name);
    t.bytes.assign(file.begin() + static_cast<std::ptrdiff_t>(data + offsets[0]),
                   file.begin() + static_cast<std::ptrdiff_t>(data + offsets[1]));
    covered += offsets[1] - offsets[0];
    out.emplace(name, std::move(t));
  }
  if (data + covered != file.size()) throw std::runtime_error(path.string() + ": the data buffer has holes");
  return out;
}

}  // namespace qf::test
