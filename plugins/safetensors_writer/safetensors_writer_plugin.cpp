// Format plugin: streams every emitted tensor into Hugging Face safetensors shards and tells the
// host which tensors each shard holds (for the index writer that follows it in the chain). Built on
// the SDK alone, as a third party's format plugin would be.
#include <memory>
#include <stdexcept>

#include "quantforge/plugin.hpp"
#include "quantforge/safetensors_writer.hpp"
#include "quantforge/size_text.hpp"

namespace {

class SafetensorsWriter {
 public:
  explicit SafetensorsWriter(qf::sdk::Session& session)
      : session_(session),
        prefix_(session.get_string("file_prefix")),
        suffix_(session.get_string("file_suffix")) {
    const uint64_t max = qf::sdk::parse_size_text(session.get_string("max_shard_size"));
    // The session's scratch file: on the output's file system, removed by the host whatever happens.
    writer_ = std::make_unique<qf::sdk::st::ShardedWriter>(max, session.create_scratch("spool"));
  }

  void add_tensor(const std::string& name, const DLTensor& t) { writer_->add(name, t); }

  void add_shard(const std::string&, const std::vector<std::string>&, uint64_t) {
    throw std::invalid_argument("safetensors_writer must come first in the format chain");
  }

  void finish() {
    std::vector<std::string> files;
    const auto shards = writer_->finish([&](size_t i, size_t n) {
      files.push_back(qf::sdk::st::shard_file_name(prefix_, suffix_, i, n));
      return session_.create_output(files.back());
    });
    for (size_t i = 0; i < shards.size(); ++i) session_.record_shard(files[i], shards[i].names, shards[i].data_bytes);
  }

 private:
  qf::sdk::Session& session_;
  std::string prefix_, suffix_;
  std::unique_ptr<qf::sdk::st::ShardedWriter> writer_;
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "max_shard_size", QF_OPTION_STRING, "\"5GB\"",
     "largest shard: bytes or with a unit (KB/MB/GB decimal, KiB/MiB/GiB binary)"},
    {sizeof(qf_option_desc), "file_prefix", QF_OPTION_STRING, "\"model\"", "shard file names start with this"},
    {sizeof(qf_option_desc), "file_suffix", QF_OPTION_STRING, "\"\"",
     "inserted before .safetensors (the in-place layout sets \"-AWQ\")"},
};

}  // namespace

QF_DEFINE_FORMAT_PLUGIN(SafetensorsWriter, "safetensors_writer", "0.1.0",
                        "Hugging Face safetensors shards (model.safetensors or model-0000i-of-0000N.safetensors)",
                        kOptions)
