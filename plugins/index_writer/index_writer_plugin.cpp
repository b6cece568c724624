// Format plugin: writes model.safetensors.index.json (metadata.total_size + weight_map) from the
// shards the safetensors writer recorded. Built on the SDK alone.
#include <map>
#include <stdexcept>

#include "quantforge/plugin.hpp"
#include "quantforge/safetensors_index.hpp"

namespace {

class IndexWriter {
 public:
  explicit IndexWriter(qf::sdk::Session& session)
      : session_(session), index_file_(session.get_string("index_file")), always_(session.get_bool("always")) {}

  void add_tensor(const std::string&, const DLTensor&) {}  // tensors are the shard writer's business

  void add_shard(const std::string& file, const std::vector<std::string>& names, uint64_t bytes) {
    ++shards_;
    total_ += bytes;
    for (const auto& n : names)
      if (!weight_map_.emplace(n, file).second)
        throw std::invalid_argument("tensor '" + n + "' is recorded in two shards");
  }

  void finish() {
    if (shards_ == 0) throw std::invalid_argument("index_writer received no shards: put a shard writer before it");
    if (shards_ == 1 && !always_) return;  // one file needs no index, as transformers does
    qf::sdk::st::write_index(session_.create_output(index_file_), total_, weight_map_);
  }

 private:
  qf::sdk::Session& session_;
  std::string index_file_;
  bool always_;
  size_t shards_ = 0;
  uint64_t total_ = 0;
  std::map<std::string, std::string> weight_map_;
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "index_file", QF_OPTION_STRING, "\"model.safetensors.index.json\"", "index file name"},
    {sizeof(qf_option_desc), "always", QF_OPTION_BOOL, "false", "write the index even for a single shard"},
};

}  // namespace

QF_DEFINE_FORMAT_PLUGIN(IndexWriter, "index_writer", "0.1.0", "Hugging Face safetensors index (weight_map)", kOptions)
