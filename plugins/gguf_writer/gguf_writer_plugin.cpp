// Format plugin: one GGUF v3 file that llama.cpp (and Ollama) load and run. Quantized Linears keep
// the method's grid exactly (Q8_0 / Q4_0 / Q4_1 blocks take each group's scale and zero point);
// tensors the method left in floating point keep their type or take --float_type. Built on the
// SDK alone, as a third party's format plugin would be.
#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>

#include "gguf_blocks.hpp"
#include "gguf_file.hpp"
#include "gguf_model.hpp"
#include "gguf_tokenizer.hpp"
#include "quantforge/half.hpp"
#include "quantforge/plugin.hpp"
#include "quantforge/quantized_linears.hpp"
#include "quantforge/tensor_spool.hpp"

namespace {

using qf::gguf::TensorType;
namespace grid = qf::sdk::grid;

// general.file_type (llama.cpp's llama_ftype numbering).
uint32_t file_type_of(TensorType t) {
  switch (t) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
  }
  return 0;
}

// Tensor order as llama.cpp's converter writes it: token embedding, the blocks in order, the rest.
int64_t order_key(const std::string& gguf_name) {
  if (gguf_name == "rope_freqs.weight") return -2;
  if (gguf_name == "token_embd.weight") return -1;
  static const std::regex kBlock(R"(blk\.(\d+)\..*)");
  std::smatch m;
  if (std::regex_match(gguf_name, m, kBlock)) return std::stoll(m[1]);
  return 1LL << 40;
}

struct PlannedTensor {
  qf::gguf::TensorInfo info;
  std::string source;     // spooled tensor name, or the Linear prefix for a quantized one
  bool quantized = false;
  std::vector<float> generated;  // rope_freqs.weight
};

class GgufWriter {
 public:
  explicit GgufWriter(qf::sdk::Session& session)
      : session_(session),
        prefix_(session.get_string("file_prefix")),
        suffix_(session.get_string("file_suffix")),
        float_type_(session.get_string("float_type")),
        spool_(session.create_scratch("spool")) {
    static const char* const kFloatTypes[] = {"auto", "f32", "f16", "bf16", "q8_0", "q6_k"};
    if (std::find(std::begin(kFloatTypes), std::end(kFloatTypes), float_type_) == std::end(kFloatTypes))
      throw std::invalid_argument("option float_type must be auto, f32, f16, bf16, q8_0 or q6_k, got \"" + float_type_ + "\"");
  }

  void add_tensor(const std::string& name, const DLTensor& t) { spool_.add(name, t); }

  void add_shard(const std::string&, const std::vector<std::string>&, uint64_t) {}

  void finish() {
    const qf::sdk::SourceModel source(session_, "gguf_writer");
    const qf::gguf::ModelFacts facts = qf::gguf::read_model_facts(source.model_dir());
    const std::string qc = source.quantization_config();
    std::optional<grid::Scheme> scheme;
    if (!qc.empty()) scheme = grid::scheme_from_quantization_config(qc);

    std::vector<PlannedTensor> plan;
    TensorType main_type = TensorType::F32;
    bool any_quantized = false;
    if (scheme)
      for (const std::string& prefix : grid::quantized_prefixes(spool_)) {
        const grid::LinearGrid g = grid::unpack(spool_, prefix, *scheme);
        const TensorType type = qf::gguf::block_type_for(g, "desc_act = false (GPTQ)");
        if (any_quantized && type != main_type)
          throw std::invalid_argument(prefix + ": the Linears mix " + qf::gguf::type_name(main_type) + " and " +
                                      qf::gguf::type_name(type) + " blocks (some groups have zero points)");
        main_type = type;
        any_quantized = true;
        PlannedTensor p;
        p.info = {*qf::gguf::tensor_name(facts, prefix + ".weight"), {g.in, g.out}, type,
                  qf::gguf::tensor_bytes(type, g.in * g.out)};
        p.source = prefix;
        p.quantized = true;
        plan.push_back(std::move(p));
      }
    std::map<TensorType, int64_t> float_matrix_elements;  // names an unquantized file after its bulk
    for (const auto& e : spool_.entries()) {
      std::string prefix, part;
      if (grid::is_packed_part(e.name, &prefix, &part)) continue;
      const std::optional<std::string> name = qf::gguf::tensor_name(facts, e.name);
      if (!name) continue;
      PlannedTensor p;
      p.source = e.name;
      p.info.name = *name;
      int64_t elements = 1;
      for (auto it = e.shape.rbegin(); it != e.shape.rend(); ++it) {
        p.info.ne.push_back(*it);
        elements *= *it;
      }
      p.info.type = float_output_type(e);
      if (e.shape.size() == 2) float_matrix_elements[p.info.type] += elements;
      p.info.nbytes = qf::gguf::tensor_bytes(p.info.type, elements);
      plan.push_back(std::move(p));
    }
    if (!any_quantized)
      for (const auto& [type, elements] : float_matrix_elements)
        if (elements > float_matrix_elements[main_type]) main_type = type;
    if (const std::vector<float> f = qf::gguf::llama3_rope_factors(facts); !f.empty()) {
      PlannedTensor p;
      p.info = {"rope_freqs.weight", {static_cast<int64_t>(f.size())}, TensorType::F32, f.size() * 4};
      p.generated = f;
      plan.push_back(std::move(p));
    }
    std::stable_sort(plan.begin(), plan.end(), [](const PlannedTensor& a, const PlannedTensor& b) {
      return order_key(a.info.name) < order_key(b.info.name);
    });

    std::vector<qf::gguf::KeyValue> kv = qf::gguf::architecture_metadata(facts);
    kv.push_back({"general.file_type", file_type_of(main_type)});
    kv.push_back({"general.quantization_version", uint32_t{2}});
    const auto tk = qf::gguf::tokenizer_metadata(source.model_dir(), facts,
                                                  [&](const std::string& text) { return source.encode(text, true); });
    kv.insert(kv.end(), tk.begin(), tk.end());

    std::vector<qf::gguf::TensorInfo> infos;
    for (const auto& p : plan) infos.push_back(p.info);
    const std::string file = prefix_ + suffix_ + "-" + qf::gguf::type_name(main_type) + ".gguf";
    qf::gguf::EncodeReport report;
    qf::gguf::write_file(session_.create_output(file), kv, infos, [&](std::size_t i, const qf::gguf::DataSink& sink) {
      write_tensor(facts, scheme, plan[i], sink, &report);
    });
    std::vector<std::string> names;
    uint64_t bytes = 0;
    for (const auto& t : infos) {
      names.push_back(t.name);
      bytes += t.nbytes;
    }
    session_.record_shard(file, names, bytes);  // the run's summary counts it as the weight file
    std::string note = "wrote " + file + " (" + std::to_string(plan.size()) + " tensors, " +
                       qf::gguf::type_name(main_type) + ")";
    if (main_type == TensorType::Q4_1)
      note += "; worst fp16 rounding of the Q4_1 minimum m = -zero*scale: " + std::to_string(report.worst_m_error);
    qf::sdk::log(QF_LOG_INFO, note);
  }

 private:
  TensorType float_output_type(const qf::sdk::TensorSpool::Entry& e) const {
    using qf::sdk::st::DType;
    if (e.dtype != DType::F32 && e.dtype != DType::F16 && e.dtype != DType::BF16)
      throw std::invalid_argument("gguf_writer: tensor " + e.name + " has a dtype GGUF output does not take");
    if (e.shape.size() != 2) return TensorType::F32;  // norms and biases stay F32, as llama.cpp's converter keeps them
    if (float_type_ == "f32") return TensorType::F32;
    if (float_type_ == "f16") return TensorType::F16;
    if (float_type_ == "bf16") return TensorType::BF16;
    if (float_type_ == "q8_0") {
      if (e.shape[1] % 32 != 0)
        throw std::invalid_argument("gguf_writer: float_type q8_0 needs rows of a multiple of 32 (" + e.name + ")");
      return TensorType::Q8_0;
    }
    if (float_type_ == "q6_k") {
      if (e.shape[1] % 256 == 0) return TensorType::Q6_K;
      // As llama.cpp's quantizer does for rows that do not fill 256-value super-blocks.
      if (e.shape[1] % 32 == 0) {
        qf::sdk::log(QF_LOG_WARN, e.name + ": rows of " + std::to_string(e.shape[1]) +
                                      " values do not fill Q6_K super-blocks of 256; written as Q8_0");
        return TensorType::Q8_0;
      }
      throw std::invalid_argument("gguf_writer: float_type q6_k needs rows of a multiple of 256 (or 32, for the "
                                  "Q8_0 fallback) (" + e.name + ")");
    }
    return e.dtype == DType::F32 ? TensorType::F32 : e.dtype == DType::F16 ? TensorType::F16 : TensorType::BF16;
  }

  // Streams one tensor's data, rows in llama.cpp's order.
  void write_tensor(const qf::gguf::ModelFacts& facts, const std::optional<grid::Scheme>& scheme,
                    const PlannedTensor& p, const qf::gguf::DataSink& sink, qf::gguf::EncodeReport* report) const {
    if (!p.generated.empty()) return sink(p.generated.data(), p.generated.size() * 4);
    if (p.quantized) {
      const grid::LinearGrid g = grid::unpack(spool_, p.source, *scheme);
      const auto bytes = qf::gguf::encode_grid(g, p.info.type, qf::gguf::row_map(facts, p.source, g.out), report);
      return sink(bytes.data(), bytes.size());
    }
    const auto& e = spool_.entry(p.source);
    const int64_t rows = e.shape.empty() ? 1 : e.shape[0];
    const int64_t cols = e.shape.size() == 2 ? e.shape[1] : (e.shape.empty() ? 1 : e.shape[0]);
    const qf::gguf::RowMap map = e.shape.size() == 2 ? qf::gguf::row_map(facts, p.source, rows)
                                                      : [](int64_t r) { return r; };
    const std::vector<float> x = as_float(e);
    std::vector<uint8_t> row(qf::gguf::tensor_bytes(p.info.type, cols));
    for (int64_t r = 0; r < (e.shape.size() == 2 ? rows : 1); ++r) {
      const float* src = x.data() + map(r) * cols;
      encode_float_row(src, cols, p.info.type, row.data());
      sink(row.data(), row.size());
    }
  }

  std::vector<float> as_float(const qf::sdk::TensorSpool::Entry& e) const {
    using qf::sdk::st::DType;
    if (e.dtype == DType::F32) return spool_.values<float>(e.name);
    const std::vector<uint16_t> h = spool_.values<uint16_t>(e.name);
    std::vector<float> out(h.size());
    for (size_t i = 0; i < h.size(); ++i)
      out[i] = e.dtype == DType::F16 ? qf::sdk::half_bits_to_float(h[i]) : qf::gguf::bf16_to_float(h[i]);
    return out;
  }

  // Exact for a type at least as wide as the source (F16/BF16 -> themselves or F32).
  static void encode_float_row(const float* x, int64_t n, TensorType t, uint8_t* out) {
    switch (t) {
      case TensorType::F32: std::memcpy(out, x, static_cast<size_t>(n) * 4); return;
      case TensorType::F16:
        for (int64_t i = 0; i < n; ++i) {
          const uint16_t h = qf::sdk::float_to_half_bits(x[i]);
          std::memcpy(out + 2 * i, &h, 2);
        }
        return;
      case TensorType::BF16:
        for (int64_t i = 0; i < n; ++i) {
          const uint16_t h = qf::gguf::float_to_bf16(x[i]);
          std::memcpy(out + 2 * i, &h, 2);
        }
        return;
      case TensorType::Q8_0: qf::gguf::quantize_q8_0(x, n, out); return;
      case TensorType::Q6_K: qf::gguf::quantize_q6_k(x, n, out); return;
      default: throw std::logic_error("float rows cannot be written as this type");
    }
  }

  qf::sdk::Session& session_;
  std::string prefix_, suffix_, float_type_;
  qf::sdk::TensorSpool spool_;
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "file_prefix", QF_OPTION_STRING, "\"model\"", "the file name starts with this"},
    {sizeof(qf_option_desc), "file_suffix", QF_OPTION_STRING, "\"\"",
     "inserted before the type (the in-place layout sets \"-AWQ\": model-AWQ-Q4_1.gguf)"},
    {sizeof(qf_option_desc), "float_type", QF_OPTION_STRING, "\"auto\"",
     "2-D tensors the method left in floating point (embeddings, lm_head): auto (as stored), f32, f16, bf16, or "
     "q8_0 (llama.cpp's reference Q8_0), q6_k (llama.cpp's reference Q6_K, the type its presets give output.weight; "
     "rows not a multiple of 256 fall back to Q8_0); norms and biases are always F32"},
};

}  // namespace

QF_DEFINE_FORMAT_PLUGIN(GgufWriter, "gguf_writer", "0.1.0",
                        "one GGUF v3 file for llama.cpp / Ollama; quantized grids carried exactly as Q8_0, Q4_0 or "
                        "Q4_1 blocks",
                        kOptions)
