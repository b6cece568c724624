// write_index: the SDK's model.safetensors.index.json, with host paths and the host's errors.
#include "quantforge/safetensors_index.hpp"
#include "safetensors/sdk_errors.hpp"
#include "safetensors/writer.hpp"

namespace qf::st {

void write_index(const std::filesystem::path& path, uint64_t total_size,
                 const std::map<std::string, std::string>& weight_map) {
  detail::sdk_call([&] { sdk::st::write_index(path.string(), total_size, weight_map); });
}

void write_index(const std::filesystem::path& path, const std::vector<ShardInfo>& shards) {
  uint64_t total = 0;
  std::map<std::string, std::string> weight_map;
  for (const auto& s : shards) {
    total += s.data_bytes;
    for (const auto& n : s.names) weight_map[n] = s.path.filename().string();
  }
  write_index(path, total, weight_map);
}

}  // namespace qf::st
