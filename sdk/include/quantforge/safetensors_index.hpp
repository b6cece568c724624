// model.safetensors.index.json: {"metadata": {"total_size": N}, "weight_map": {tensor: file}}, as
// transformers' save_pretrained writes it: indent 2, keys sorted, ASCII-escaped, final newline.
// total_size is the sum of the tensors' data bytes (headers excluded).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "quantforge/atomic_file.hpp"
#include "quantforge/json_writer.hpp"
#include "quantforge/sharded_writer.hpp"

namespace qf::sdk::st {

// The index text; `what` (the file) prefixes the invalid_argument thrown for a name not in UTF-8.
inline std::string index_json(uint64_t total_size, const std::map<std::string, std::string>& weight_map,
                              const std::string& what = "index") {
  json::Writer w(2, /*ensure_ascii=*/true);
  try {
    w.begin_object();
    w.key("metadata").begin_object().field("total_size", total_size).end_object();
    w.key("weight_map").begin_object();
    for (const auto& [name, file] : weight_map) w.field(name, file);  // std::map: sorted bytewise
    w.end_object().end_object();
  } catch (const json::ValueError& e) {
    throw std::invalid_argument(what + ": a tensor or file name is not valid UTF-8 (" + e.what() + ")");
  }
  return w.str() + "\n";
}

// The weight map of finish()'s shards: values are the shard file names without their folder.
inline std::map<std::string, std::string> weight_map_of(const std::vector<ShardInfo>& shards, uint64_t* total = nullptr) {
  std::map<std::string, std::string> map;
  uint64_t sum = 0;
  for (const auto& s : shards) {
    sum += s.data_bytes;
    const auto slash = s.path.find_last_of('/');
    const std::string file = slash == std::string::npos ? s.path : s.path.substr(slash + 1);
    for (const auto& n : s.names) map[n] = file;
  }
  if (total) *total = sum;
  return map;
}

// Writes the index atomically (AtomicFile).
inline void write_index(const std::string& path, uint64_t total_size,
                        const std::map<std::string, std::string>& weight_map) {
  write_file_atomically(path, index_json(total_size, weight_map, path));
}

inline void write_index(const std::string& path, const std::vector<ShardInfo>& shards) {
  uint64_t total = 0;
  const auto map = weight_map_of(shards, &total);
  write_index(path, total, map);
}

}  // namespace qf::sdk::st
