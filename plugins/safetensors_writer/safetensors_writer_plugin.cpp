// Format plugin: streams every emitted tensor into Hugging Face safetensors shards and tells the
// host which tensors each shard holds (for the index writer that follows it in the chain).
#include <memory>
#include <stdexcept>

#include "quantforge/plugin.hpp"
#include "safetensors/writer.hpp"
#include "size_text.hpp"

namespace {

qf::st::DType to_dtype(const DLDataType& t, const std::string& name) {
  if (t.lanes != 1) throw std::invalid_argument(name + ": vector dtypes are not supported");
  if (t.code == kDLFloat && t.bits == 64) return qf::st::DType::F64;
  if (t.code == kDLFloat && t.bits == 32) return qf::st::DType::F32;
  if (t.code == kDLFloat && t.bits == 16) return qf::st::DType::F16;
  if (t.code == kDLBfloat && t.bits == 16) return qf::st::DType::BF16;
  if (t.code == kDLInt && t.bits == 64) return qf::st::DType::I64;
  if (t.code == kDLInt && t.bits == 32) return qf::st::DType::I32;
  if (t.code == kDLInt && t.bits == 16) return qf::st::DType::I16;
  if (t.code == kDLInt && t.bits == 8) return qf::st::DType::I8;
  if (t.code == kDLUInt && t.bits == 8) return qf::st::DType::U8;
  if (t.code == kDLUInt && t.bits == 1) return qf::st::DType::BOOL;
  throw std::invalid_argument(name + ": dtype code " + std::to_string(t.code) + " bits " + std::to_string(t.bits) +
                              " has no safetensors equivalent");
}

bool is_compact(const DLTensor& t) {
  if (t.strides == nullptr) return true;
  int64_t expected = 1;
  for (int32_t d = t.ndim - 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

class SafetensorsWriter {
 public:
  explicit SafetensorsWriter(qf::sdk::Session& session)
      : session_(session),
        prefix_(session.get_string("file_prefix")),
        suffix_(session.get_string("file_suffix")) {
    const uint64_t max = parse_size_text(session.get_string("max_shard_size"));
    const std::string spool = session.create_output(".scratch/safetensors-spool");
    writer_ = std::make_unique<qf::st::ShardedWriter>(max, std::filesystem::path(spool).parent_path());
  }

  void add_tensor(const std::string& name, const DLTensor& t) {
    if (t.device.device_type != kDLCPU) throw std::invalid_argument(name + ": only CPU tensors can be written");
    if (!is_compact(t)) throw std::invalid_argument(name + ": tensor is not contiguous");
    std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    const qf::st::DType dtype = to_dtype(t.dtype, name);
    const size_t nbytes = dtype == qf::st::DType::BOOL ? static_cast<size_t>(numel)
                                                       : static_cast<size_t>(numel) * (t.dtype.bits / 8);
    writer_->add(name, dtype, shape, static_cast<const char*>(t.data) + t.byte_offset, nbytes);
  }

  void add_shard(const std::string&, const std::vector<std::string>&, uint64_t) {
    throw std::invalid_argument("safetensors_writer must come first in the format chain");
  }

  void finish() {
    const auto shards = writer_->finish([&](size_t i, size_t n) {
      return std::filesystem::path(session_.create_output(qf::st::shard_file_name(prefix_, suffix_, i, n)));
    });
    for (const auto& s : shards) session_.record_shard(s.path.filename().string(), s.names, s.data_bytes);
  }

 private:
  qf::sdk::Session& session_;
  std::string prefix_, suffix_;
  std::unique_ptr<qf::st::ShardedWriter> writer_;
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
