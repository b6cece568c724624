#include "fake_quant_model.hpp"

#include <ATen/ATen.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quantforge/packing.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

namespace qf::test {

const fs::path kData = QF_TEST_DATA_DIR;

fs::path tiny_llama_dir() { return kData / "models" / "tiny-llama"; }

namespace {

using json = nlohmann::json;

at::Tensor view_of(const st::TensorView& v) {
  at::ScalarType t = at::kFloat;
  switch (v.info->dtype) {
    case st::DType::BF16: t = at::kBFloat16; break;
    case st::DType::F16: t = at::kHalf; break;
    case st::DType::F32: t = at::kFloat; break;
    case st::DType::I32: t = at::kInt; break;
    default: throw std::runtime_error("unexpected dtype in tiny-llama: " + v.info->name);
  }
  return at::from_blob(const_cast<std::byte*>(v.data), v.info->shape, at::TensorOptions().dtype(t));
}

st::DType st_dtype(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return st::DType::BF16;
    case at::kHalf: return st::DType::F16;
    case at::kFloat: return st::DType::F32;
    case at::kInt: return st::DType::I32;
    default: throw std::runtime_error("unexpected dtype");
  }
}

std::vector<int32_t> ints(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kInt).contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

at::Tensor words(const std::vector<int32_t>& v, std::vector<int64_t> shape) {
  return at::from_blob(const_cast<int32_t*>(v.data()), shape, at::kInt).clone();
}

bool is_decoder_linear(const std::string& name) {
  if (name.rfind("model.layers.", 0) != 0) return false;
  for (const char* p : {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
    if (name.find(std::string(p) + ".weight") != std::string::npos) return true;
  return false;
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  json j;
  in >> j;
  return j;
}

}  // namespace

RtnParams rtn_quantize(const at::Tensor& w, int bits, bool sym, int64_t group) {
  const int64_t out = w.size(0), in = w.size(1), ng = in / group;
  const double maxq = static_cast<double>((1 << bits) - 1);
  const at::Tensor g = w.reshape({out, ng, group});
  at::Tensor xmin = g.amin(-1).clamp_max(0), xmax = g.amax(-1).clamp_min(0);
  if (sym) {
    xmax = at::maximum(xmin.abs(), xmax);
    xmin = at::where(xmin < 0, -xmax, xmin);
  }
  const at::Tensor empty = (xmin == 0) & (xmax == 0);
  xmin = at::where(empty, at::full_like(xmin, -1), xmin);
  xmax = at::where(empty, at::full_like(xmax, 1), xmax);
  RtnParams p;
  p.scale = (xmax - xmin) / maxq;
  p.zero = sym ? at::full_like(p.scale, (maxq + 1) / 2) : (-xmin / p.scale).round();
  p.q = ((g / p.scale.unsqueeze(-1)).round() + p.zero.unsqueeze(-1)).clamp(0, maxq).reshape({out, in});
  return p;
}

std::pair<int64_t, int64_t> write_fake_quant_model(const fs::path& dir, int bits, bool sym, Packing packing,
                                                   bool config_in_file) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const st::Checkpoint ckpt = st::Checkpoint::open(tiny_llama_dir());
  std::vector<at::Tensor> keep;
  std::vector<st::TensorRef> refs;
  auto add = [&](const std::string& name, at::Tensor t) {
    t = t.contiguous();
    keep.push_back(t);
    refs.push_back({name, st_dtype(t.scalar_type()), t.sizes().vec(), t.data_ptr(),
                    static_cast<size_t>(t.numel()) * t.element_size()});
  };
  int64_t straddling = 0, groups = 0;
  for (const std::string& name : ckpt.names()) {
    const at::Tensor stored = view_of(ckpt.get(name));
    if (!is_decoder_linear(name)) {
      add(name, stored);
      continue;
    }
    const std::string prefix = name.substr(0, name.size() - 7);
    const at::Tensor w = stored.to(at::kFloat);
    const int64_t out = w.size(0), in = w.size(1), ng = in / 128;
    const auto gmin = w.reshape({out, ng, 128}).amin(-1), gmax = w.reshape({out, ng, 128}).amax(-1);
    straddling += ((gmin < 0) & (gmax > 0)).sum().item<int64_t>();
    groups += out * ng;
    const RtnParams p = rtn_quantize(w, bits, sym);
    const std::vector<int32_t> codes = ints(p.q), zeros = ints(p.zero);  // [out, in], [out, ng]
    add(prefix + ".scales", p.scale.t().to(at::kHalf));                  // [ng, out] fp16
    if (packing == Packing::AwqGemm) {
      add(prefix + ".qweight", words(pack::awq_pack_qweight(codes, out, in), {in, out / 8}));
      add(prefix + ".qzeros", words(pack::awq_pack_qzeros(zeros, out, ng), {ng, out / 8}));
    } else {
      const bool v1 = packing == Packing::GptqV1;
      add(prefix + ".qweight", words(pack::gptq_pack_qweight(codes, out, in, bits), {in * bits / 32, out}));
      add(prefix + ".qzeros", words(pack::gptq_pack_qzeros(zeros, out, ng, bits, v1), {ng, out * bits / 32}));
      add(prefix + ".g_idx", at::div(at::arange(in, at::kInt), 128, "floor").to(at::kInt));
    }
  }
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    fs::copy_file(tiny_llama_dir() / f, dir / f);
  json config = read_json(tiny_llama_dir() / "config.json");
  if (packing == Packing::AwqGemm) {
    // In place: the original weights stay beside the variant.
    for (const auto& e : fs::directory_iterator(tiny_llama_dir()))
      if (e.path().filename().string().rfind("model", 0) == 0) fs::copy_file(e.path(), dir / e.path().filename());
    st::write_file(dir / "model-AWQ.safetensors", refs);
    std::map<std::string, std::string> weight_map;
    uint64_t total = 0;
    for (const auto& r : refs) {
      weight_map[r.name] = "model-AWQ.safetensors";
      total += r.nbytes;
    }
    st::write_index(dir / "model-AWQ.safetensors.index.json", total, weight_map);
    // AutoAWQ's legacy quant_config.json keys (no quant_method: the scheme is inferred).
    write_text(dir / "quant_config-AWQ.json",
               R"({"zero_point": true, "q_group_size": 128, "w_bit": 4, "version": "GEMM", "modules_to_not_convert": null})");
    write_text(dir / "config.json", config.dump(2));
  } else {
    st::write_file(dir / "model.safetensors", refs);
    json qc = {{"bits", bits},
               {"group_size", 128},
               {"desc_act", false},
               {"sym", sym},
               {"checkpoint_format", packing == Packing::GptqV1 ? "gptq" : "gptq_v2"}};
    if (config_in_file) {
      write_text(dir / "quantize_config.json", qc.dump(2));  // AutoGPTQ style: no quant_method
    } else {
      qc["quant_method"] = "gptq";
      config["quantization_config"] = qc;
    }
    write_text(dir / "config.json", config.dump(2));
  }
  return {straddling, groups};
}

const std::vector<int32_t>& heldout_tokens() {
  static const std::vector<int32_t> tokens = [] {
    const auto tok = tok::Tokenizer::from_dir(tiny_llama_dir());
    std::ifstream in(kData / "text" / "heldout.txt", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return tok.encode(ss.str(), /*add_special_tokens=*/false);
  }();
  return tokens;
}

}  // namespace qf::test
