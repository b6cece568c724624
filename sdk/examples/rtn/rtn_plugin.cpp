// RTN method plugin: the SDK example. Quantizes every Linear of every decoder layer to the nearest
// grid point of its group and emits GPTQ (v1/v2) or AutoAWQ GEMM tensors.
#include <stdexcept>

#include "quantforge/json_writer.hpp"
#include "quantforge/packing.hpp"
#include "quantforge/plugin.hpp"
#include "rtn_layer.hpp"

namespace {

using qf::sdk::Tensor;

std::vector<uint16_t> to_half(const std::vector<float>& values) {
  std::vector<uint16_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = qf::sdk::float_to_half_bits(values[i]);
  return out;
}

// [rows, cols] -> [cols, rows]
template <class T>
std::vector<T> transpose(const std::vector<T>& m, int64_t rows, int64_t cols) {
  std::vector<T> t(m.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = m[r * cols + c];
  return t;
}

class RtnMethod {
 public:
  explicit RtnMethod(qf::sdk::Session& session) : session_(session) {
    s_.bits = static_cast<int>(session.get_int("bits"));
    s_.group_size = session.get_int("group_size");
    s_.sym = session.get_bool("sym");
    s_.checkpoint_format = session.get_string("checkpoint_format");
    if (s_.checkpoint_format != "gptq" && s_.checkpoint_format != "awq")
      throw std::invalid_argument("option checkpoint_format must be \"gptq\" or \"awq\", got \"" +
                                  s_.checkpoint_format + "\"");
    if (s_.bits != 2 && s_.bits != 4 && s_.bits != 8)
      throw std::invalid_argument("option bits must be 2, 4 or 8 for RTN packing, got " + std::to_string(s_.bits));
    if (s_.checkpoint_format == "awq" && (s_.bits != 4 || s_.sym))
      throw std::invalid_argument("the AWQ GEMM format stores 4-bit codes with a zero point: use bits=4, sym=false");
    if (s_.group_size == 0 || s_.group_size < -1)
      throw std::invalid_argument("option group_size must be positive or -1, got " + std::to_string(s_.group_size));
  }

  qf_method_requirements requirements() { return qf_method_requirements{sizeof(qf_method_requirements), false, 0, 0, false}; }

  void quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count) {
    for (const auto& linear : layer.linears()) {
      const qf::sdk::MatrixView w = layer.read_weight(linear.short_name);
      const rtn::QuantizedLinear q = rtn::quantize(w.data, w.rows, w.cols, s_, linear.name + ".weight");
      layer.write_weight(linear.short_name, q.dequantized, q.out, q.in);
      if (s_.checkpoint_format == "awq")
        emit_awq(linear.name, q);
      else
        emit_gptq(linear.name, q);
    }
    if (!session_.progress("rtn", index + 1, count)) throw qf::sdk::PluginError(QF_ERR_CANCELLED, "cancelled");
  }

  void finish() {
    qf::sdk::json::Writer json = qf::sdk::json::Writer::python_default();  // the text the host always got
    json.begin_object();
    if (s_.checkpoint_format == "awq") {
      json.field("bits", 4).field("group_size", s_.group_size).field("modules_to_not_convert", nullptr);
      json.field("quant_method", "awq").field("version", "gemm").field("zero_point", true);
    } else {
      const char* fmt = s_.sym ? "gptq" : "gptq_v2";  // asymmetric zeros are only lossless in v2
      json.field("bits", s_.bits).field("group_size", s_.group_size).field("desc_act", false).field("sym", s_.sym);
      json.field("static_groups", false).field("true_sequential", true).field("quant_method", "gptq");
      json.field("checkpoint_format", fmt).field("format", fmt);
      json.key("meta").begin_object().key("quantizer").begin_array().value("quantforge-rtn:0.1.0").end_array();
      json.end_object();
    }
    json.end_object();
    session_.set_quantization_config(json.str());
  }

 private:
  void emit_gptq(const std::string& prefix, const rtn::QuantizedLinear& q) {
    const int64_t pf = 32 / s_.bits;
    const bool v1 = s_.sym;
    session_.emit(prefix + ".qweight", Tensor::from_vector(qf::pack::gptq_pack_qweight(q.codes, q.out, q.in, s_.bits),
                                                           {q.in / pf, q.out}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".qzeros",
                  Tensor::from_vector(qf::pack::gptq_pack_qzeros(q.zeros, q.out, q.ngroups, s_.bits, v1),
                                      {q.ngroups, q.out / pf}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".scales", Tensor::from_vector(to_half(transpose(q.scales, q.out, q.ngroups)),
                                                          {q.ngroups, q.out}, qf::sdk::dl_float(16)));
    std::vector<int32_t> g_idx(static_cast<size_t>(q.in));
    for (int64_t i = 0; i < q.in; ++i) g_idx[i] = static_cast<int32_t>(i / q.group_size);
    session_.emit(prefix + ".g_idx", Tensor::from_vector(g_idx, {q.in}, qf::sdk::dl_int(32)));
  }

  void emit_awq(const std::string& prefix, const rtn::QuantizedLinear& q) {
    session_.emit(prefix + ".qweight", Tensor::from_vector(qf::pack::awq_pack_qweight(q.codes, q.out, q.in),
                                                           {q.in, q.out / 8}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".qzeros", Tensor::from_vector(qf::pack::awq_pack_qzeros(q.zeros, q.out, q.ngroups),
                                                          {q.ngroups, q.out / 8}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".scales", Tensor::from_vector(to_half(transpose(q.scales, q.out, q.ngroups)),
                                                          {q.ngroups, q.out}, qf::sdk::dl_float(16)));
  }

  qf::sdk::Session& session_;
  rtn::Settings s_;
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "bits", QF_OPTION_INT, "4", "bits per weight: 2, 4 or 8"},
    {sizeof(qf_option_desc), "group_size", QF_OPTION_INT, "128", "input channels per scale; -1 = one per row"},
    {sizeof(qf_option_desc), "sym", QF_OPTION_BOOL, "false", "symmetric grid (zero point fixed at the middle)"},
    {sizeof(qf_option_desc), "checkpoint_format", QF_OPTION_STRING, "\"gptq\"",
     "\"gptq\" (packed along inputs, v1/v2) or \"awq\" (AutoAWQ GEMM)"},
};

}  // namespace

QF_DEFINE_METHOD_PLUGIN(RtnMethod, "rtn", "0.1.0", "Round-to-nearest per-group quantization (no calibration)",
                        kOptions)
