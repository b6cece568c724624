// Format plugin: a compressed-tensors "pack-quantized" checkpoint (llm-compressor's W4A16 / W8A16,
// what vLLM's CompressedTensorsWNA16 loads). Every quantized Linear's grid is recovered from the
// method's AutoAWQ GEMM or GPTQ tensors and written again without rounding anything:
// weight_packed, weight_scale, weight_shape, weight_zero_point (asymmetric) and weight_g_idx
// (act-order); every other tensor passes through as it arrived. Shards honour max_shard_size; the
// index writer after it writes model.safetensors.index.json, and the host puts the
// quantization_config this plugin sets into config.json. Built on the SDK alone.
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

#include "ct_config.hpp"
#include "ct_linear.hpp"
#include "ct_plan.hpp"
#include "quantforge/plugin.hpp"
#include "quantforge/quantized_linears.hpp"
#include "quantforge/sharded_writer.hpp"
#include "quantforge/size_text.hpp"
#include "quantforge/tensor_spool.hpp"

namespace {

namespace grid = qf::sdk::grid;
using qf::sdk::st::DType;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("compressed_tensors_writer: cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class CompressedTensorsWriter {
 public:
  explicit CompressedTensorsWriter(qf::sdk::Session& session)
      : session_(session),
        max_shard_size_(qf::sdk::parse_size_text(session.get_string("max_shard_size"))),
        prefix_(session.get_string("file_prefix")),
        scale_dtype_(session.get_string("scale_dtype")),
        spool_(std::make_unique<qf::sdk::TensorSpool>(session.create_scratch("spool"))) {
    if (scale_dtype_ != "auto" && scale_dtype_ != "float16" && scale_dtype_ != "bfloat16" && scale_dtype_ != "float32")
      throw std::invalid_argument("option scale_dtype must be auto, float16, bfloat16 or float32, got \"" +
                                  scale_dtype_ + "\"");
  }

  void add_tensor(const std::string& name, const DLTensor& t) { spool_->add(name, t); }

  void add_shard(const std::string&, const std::vector<std::string>&, uint64_t) {
    throw std::invalid_argument("compressed_tensors_writer writes the shards itself: it must come first in the "
                                "format chain");
  }

  void finish() {
    const qf::sdk::SourceModel source(session_, "compressed_tensors_writer");
    const std::string qc = source.quantization_config();
    if (qc.empty())
      throw std::invalid_argument("compressed-tensors output needs a method that quantizes (awq, gptq, rtn): the "
                                  "run set no quantization_config");
    const qf::ct::Plan plan = qf::ct::plan_checkpoint(*spool_, grid::scheme_from_quantization_config(qc));
    qf::ct::LinearLayout layout;
    layout.symmetric = plan.scheme.symmetric;
    layout.act_order = plan.act_order;
    layout.scale_dtype = scale_dtype(source.model_dir() + "/config.json");

    qf::sdk::st::ShardedWriter writer(max_shard_size_, session_.create_scratch("shards"));
    for (const auto& e : spool_->entries()) {  // arrival order: the model's own order
      std::string prefix, part;
      if (!grid::is_packed_part(e.name, &prefix, &part)) {
        const std::vector<uint8_t> bytes = spool_->bytes(e.name);
        writer.add(e.name, e.dtype, e.shape, bytes.data(), bytes.size());
      } else if (part == "qweight") {
        session_.stop_if_cancelled("compressed-tensors");
        add_linear(writer, qf::ct::compress_linear(grid::unpack(*spool_, prefix, plan.scheme), layout), prefix,
                   layout.scale_dtype);
      }
    }
    spool_.reset();  // everything is in the writer's spool now: free the disk space before the shards take it
    std::vector<std::string> files;
    const auto shards = writer.finish([&](size_t i, size_t n) {
      files.push_back(qf::sdk::st::shard_file_name(prefix_, "", i, n));
      return session_.create_output(files.back());
    });
    for (size_t i = 0; i < shards.size(); ++i) session_.record_shard(files[i], shards[i].names, shards[i].data_bytes);
    source.set_output_quantization_config(qf::ct::quantization_config_json(plan));
    qf::sdk::log(QF_LOG_INFO, "compressed-tensors pack-quantized: " + std::to_string(plan.linears.size()) +
                                  " Linears, " + std::to_string(plan.scheme.bits) + "-bit " +
                                  (plan.scheme.symmetric ? "symmetric" : "asymmetric") +
                                  (plan.group_size == -1 ? ", per channel" : ", group " + std::to_string(plan.group_size)) +
                                  (plan.act_order ? ", act-order g_idx" : "") + ", scales " +
                                  std::string(qf::sdk::st::dtype_name(layout.scale_dtype)) + ", " +
                                  std::to_string(shards.size()) + " shard(s)");
  }

 private:
  DType scale_dtype(const std::string& config_path) const {
    if (scale_dtype_ == "float16") return DType::F16;
    if (scale_dtype_ == "bfloat16") return DType::BF16;
    if (scale_dtype_ == "float32") return DType::F32;
    if (const auto t = qf::ct::model_float_dtype(read_text(config_path))) return *t;
    qf::sdk::log(QF_LOG_WARN, config_path + " names no torch_dtype/dtype of float16, bfloat16 or float32: "
                              "weight_scale is written as float16, as the method's scales are");
    return DType::F16;
  }

  static void add_linear(qf::sdk::st::ShardedWriter& writer, const qf::ct::CompressedLinear& c, const std::string& p,
                         DType scale_dtype) {
    const auto words = static_cast<int64_t>(c.weight_packed.size()) / c.out;
    writer.add(p + ".weight_packed", DType::I32, {c.out, words}, c.weight_packed.data(), c.weight_packed.size() * 4);
    writer.add(p + ".weight_scale", scale_dtype, {c.out, c.groups}, c.weight_scale.data(), c.weight_scale.size());
    writer.add(p + ".weight_shape", DType::I64, {2}, c.weight_shape.data(), c.weight_shape.size() * 8);
    if (!c.weight_zero_point.empty())
      writer.add(p + ".weight_zero_point", DType::I32,
                 {static_cast<int64_t>(c.weight_zero_point.size()) / c.groups, c.groups}, c.weight_zero_point.data(),
                 c.weight_zero_point.size() * 4);
    if (!c.weight_g_idx.empty())
      writer.add(p + ".weight_g_idx", DType::I32, {c.in}, c.weight_g_idx.data(), c.weight_g_idx.size() * 4);
  }

  qf::sdk::Session& session_;
  uint64_t max_shard_size_;
  std::string prefix_, scale_dtype_;
  std::unique_ptr<qf::sdk::TensorSpool> spool_;  // the method's tensors as they arrived
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "max_shard_size", QF_OPTION_STRING, "\"5GB\"",
     "largest shard: bytes or with a unit (KB/MB/GB decimal, KiB/MiB/GiB binary)"},
    {sizeof(qf_option_desc), "file_prefix", QF_OPTION_STRING, "\"model\"", "shard file names start with this"},
    {sizeof(qf_option_desc), "scale_dtype", QF_OPTION_STRING, "\"auto\"",
     "weight_scale dtype: auto (config.json's torch_dtype, as llm-compressor writes it and vLLM allocates it), "
     "float16 (the method's scales exactly), bfloat16 or float32"},
};

}  // namespace

QF_DEFINE_FORMAT_PLUGIN(CompressedTensorsWriter, "compressed_tensors_writer", "0.1.0",
                        "compressed-tensors pack-quantized checkpoint (vLLM W4A16 / W8A16: weight_packed, "
                        "weight_scale, weight_zero_point, weight_g_idx) carrying the method's grid exactly",
                        kOptions)
