// write_index: model.safetensors.index.json as transformers' save_pretrained writes it.
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "safetensors/atomic_file.hpp"
#include "safetensors/writer.hpp"

namespace qf::st {

void write_index(const std::filesystem::path& path, uint64_t total_size,
                 const std::map<std::string, std::string>& weight_map) {
  nlohmann::json root;  // std::map-backed: keys come out sorted, like json.dumps(sort_keys=True)
  root["metadata"]["total_size"] = total_size;
  root["weight_map"] = nlohmann::json::object();
  for (const auto& [name, file] : weight_map) root["weight_map"][name] = file;
  std::string text;
  try {
    text = root.dump(2, ' ', /*ensure_ascii=*/true) + "\n";
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": a tensor or file name is not valid UTF-8 (" + e.what() + ")");
  }
  detail::AtomicFile out(path);
  out.write(text.data(), text.size());
  out.commit();
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
