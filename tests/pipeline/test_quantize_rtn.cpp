// End to end: RTN through the full plugin chain in every layout. The dequantized weights read back
// from the files must equal a fake quantization of the originals computed here independently with
// ATen ops, every other tensor must be byte-identical, and the model's own files untouched.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "pipeline/quantize.hpp"
#include "quantforge/packing.hpp"
#include "recipe/recipe.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"
#include "synthetic_model.hpp"

namespace fs = std::filesystem;

namespace {

struct Scheme {
  int bits;
  int64_t group;
  bool sym;
  bool awq;
};

// The GPTQ/AWQ quantizer formulas (docs/gptq.md#quantizer, docs/awq.md#pseudo-quantization) with the
// scale rounded to fp16 as stored, written with tensor ops.
at::Tensor reference_fake_quant(const at::Tensor& w, const Scheme& s) {
  const int64_t out = w.size(0), in = w.size(1), ng = in / s.group;
  const double maxq = (1 << s.bits) - 1;
  const at::Tensor g = w.reshape({out, ng, s.group});
  at::Tensor scale, zero;
  if (s.awq) {
    const at::Tensor xmax = g.amax(-1), xmin = g.amin(-1);
    scale = (xmax - xmin).clamp_min(1e-5) / maxq;
    zero = (-(xmin / scale).round()).clamp(0, maxq);
  } else {
    at::Tensor xmin = g.amin(-1).clamp_max(0), xmax = g.amax(-1).clamp_min(0);
    if (s.sym) {
      xmax = at::maximum(xmin.abs(), xmax);
      xmin = at::where(xmin < 0, -xmax, xmin);
    }
    const at::Tensor empty = (xmin == 0) & (xmax == 0);
    xmin = at::where(empty, at::full_like(xmin, -1), xmin);
    xmax = at::where(empty, at::full_like(xmax, 1), xmax);
    scale = (xmax - xmin) / maxq;
    zero = s.sym ? at::full_like(scale, (maxq + 1) / 2) : (-xmin / scale).round();
  }
  const at::Tensor s16 = scale.to(at::kHalf).to(at::kFloat);
  const at::Tensor q = ((g / s16.unsqueeze(-1)).round() + zero.unsqueeze(-1)).clamp(0, maxq);
  return (s16.unsqueeze(-1) * (q - zero.unsqueeze(-1))).reshape({out, in});
}

at::Tensor stored(const qf::st::Checkpoint& ckpt, const std::string& name) {
  const auto v = ckpt.get(name);
  at::ScalarType t = at::kFloat;
  switch (v.info->dtype) {
    case qf::st::DType::I32: t = at::kInt; break;
    case qf::st::DType::F16: t = at::kHalf; break;
    case qf::st::DType::BF16: t = at::kBFloat16; break;
    default: break;
  }
  return at::from_blob(const_cast<std::byte*>(v.data), v.info->shape, at::TensorOptions().dtype(t)).clone();
}

std::vector<int32_t> to_vec(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

// Dequantizes one Linear from the files as any loader would (docs/gptq.md#packing-v1-and-v2, docs/awq.md#gemm-packing).
at::Tensor dequantize_from_files(const qf::st::Checkpoint& ckpt, const std::string& prefix, int64_t out, int64_t in,
                                 const Scheme& s, bool v1) {
  const int64_t ng = in / s.group;
  const at::Tensor scales = stored(ckpt, prefix + ".scales").to(at::kFloat);  // [ng, out]
  REQUIRE(scales.sizes() == at::IntArrayRef({ng, out}));
  std::vector<int32_t> codes, zeros;
  if (s.awq) {
    codes = qf::pack::awq_unpack_qweight(to_vec(stored(ckpt, prefix + ".qweight")), out, in);
    zeros = qf::pack::awq_unpack_qzeros(to_vec(stored(ckpt, prefix + ".qzeros")), out, ng);
  } else {
    codes = qf::pack::gptq_unpack_qweight(to_vec(stored(ckpt, prefix + ".qweight")), out, in, s.bits);
    zeros = qf::pack::gptq_unpack_qzeros(to_vec(stored(ckpt, prefix + ".qzeros")), out, ng, s.bits, v1);
    const at::Tensor g_idx = stored(ckpt, prefix + ".g_idx");
    CHECK(at::equal(g_idx, at::arange(in, at::kInt).div(s.group, "floor").to(at::kInt)));
  }
  const at::Tensor q = at::from_blob(codes.data(), {out, in}, at::kInt).to(at::kFloat);
  const at::Tensor z = at::from_blob(zeros.data(), {out, ng}, at::kInt).to(at::kFloat);
  const at::Tensor sc = scales.t().contiguous();  // [out, ng]
  return (sc.repeat_interleave(s.group, 1) * (q - z.repeat_interleave(s.group, 1)));
}

qf::recipe::Recipe rtn_recipe(const Scheme& s, const std::string& layout_toml, const std::string& shard) {
  const std::string text = std::string("[method]\nplugin = \"rtn\"\n[method.options]\n") +
                           "bits = " + std::to_string(s.bits) + "\ngroup_size = " + std::to_string(s.group) +
                           "\nsym = " + (s.sym ? "true" : "false") + "\ncheckpoint_format = \"" +
                           (s.awq ? "awq" : "gptq") + "\"\n[[formats]]\nplugin = \"safetensors_writer\"\n" +
                           "[formats.options]\nmax_shard_size = \"" + shard + "\"\n[[formats]]\nplugin = \"index_writer\"\n" +
                           layout_toml;
  return qf::recipe::parse_recipe(text, "test-recipe.toml");
}

const std::vector<std::string> kLinears = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                           "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                           "mlp.down_proj"};

// Checks a finished run's weights against the originals.
void check_checkpoint(const qf::st::Checkpoint& ckpt, const qf::test::SyntheticModel& m, const Scheme& s, bool v1) {
  for (const auto& [name, original] : m.tensors) {
    bool is_quantized = false;
    for (const auto& l : kLinears) is_quantized |= name.find(l + ".weight") != std::string::npos;
    if (!is_quantized) {
      INFO(name);
      REQUIRE(ckpt.contains(name));
      CHECK(at::equal(stored(ckpt, name), original));
      continue;
    }
    const std::string prefix = name.substr(0, name.size() - 7);
    INFO(prefix);
    CHECK_FALSE(ckpt.contains(name));
    const at::Tensor w = original.to(at::kFloat);
    const at::Tensor expected = reference_fake_quant(w, s);
    const at::Tensor got = dequantize_from_files(ckpt, prefix, w.size(0), w.size(1), s, v1);
    CHECK(at::equal(got, expected));
    // And the quantization actually moved the weights onto a grid (not a pass-through).
    CHECK_FALSE(at::equal(got, w));
  }
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

qf::host::PluginRegistry bundled() {
  qf::host::PluginRegistry r;
  r.load_directories({QF_PLUGIN_BUILD_DIR});
  return r;
}

}  // namespace

TEST_CASE("RTN 4-bit asymmetric into the subdirectory layout (gptq_v2)", "[pipeline][rtn]") {
  const qf::test::TempDir tmp("rtn_subdir");
  const fs::path dir = tmp / "model";
  const auto m = qf::test::make_synthetic_llama(dir, 1);
  const auto before = qf::test::snapshot(dir);
  const Scheme s{4, 128, false, false};
  qf::pipeline::QuantizeRequest req;
  req.model_dir = dir;
  req.recipe = rtn_recipe(s,
                          "[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"RTN_{bits}bit_CPU\"\n"
                          "quant_config_file = \"quantize_config.json\"\n",
                          "5GB");
  const auto registry = bundled();
  const auto summary = qf::pipeline::quantize(req, registry);
  const fs::path out = dir / "RTN_4bit_CPU";
  CHECK(summary.destination == out);
  CHECK(fs::exists(out / "model.safetensors"));
  CHECK_FALSE(fs::exists(out / "model.safetensors.index.json"));  // one shard needs no index
  CHECK(fs::exists(out / "tokenizer_config.json"));
  CHECK(fs::exists(out / "generation_config.json"));
  const auto config = read_json(out / "config.json");
  CHECK(config["model_type"] == "llama");
  CHECK(config["quantization_config"]["quant_method"] == "gptq");
  CHECK(config["quantization_config"]["bits"] == 4);
  CHECK(config["quantization_config"]["checkpoint_format"] == "gptq_v2");
  CHECK(read_json(out / "quantize_config.json") == config["quantization_config"]);
  check_checkpoint(qf::st::Checkpoint::open(out), m, s, false);
  CHECK(qf::test::snapshot(dir) == before);
}

TEST_CASE("RTN 8-bit symmetric into a standalone folder, sharded (gptq v1)", "[pipeline][rtn]") {
  const qf::test::TempDir tmp("rtn_standalone");
  const fs::path dir = tmp / "model", out = tmp / "out";
  const auto m = qf::test::make_synthetic_llama(dir, 2);
  const auto before = qf::test::snapshot(dir);
  const Scheme s{8, 128, true, false};
  qf::pipeline::QuantizeRequest req;
  req.model_dir = dir;
  req.output = out;
  req.recipe = rtn_recipe(s, "", "200KB");
  const auto registry = bundled();
  qf::pipeline::quantize(req, registry);
  REQUIRE(fs::exists(out / "model.safetensors.index.json"));
  const auto index = read_json(out / "model.safetensors.index.json");
  CHECK(index["weight_map"].size() > 10);
  std::set<std::string> shard_files;
  for (const auto& [name, file] : index["weight_map"].items()) shard_files.insert(file.get<std::string>());
  CHECK(shard_files.size() >= 2);
  for (const auto& f : shard_files) CHECK(fs::exists(out / f));
  const auto config = read_json(out / "config.json");
  CHECK(config["quantization_config"]["checkpoint_format"] == "gptq");
  CHECK(config["quantization_config"]["sym"] == true);
  const auto ckpt = qf::st::Checkpoint::open(out);
  check_checkpoint(ckpt, m, s, true);
  // Symmetric v1 zero words are the constant every loader assumes (docs/gptq.md#packing-v1-and-v2).
  CHECK(to_vec(stored(ckpt, "model.layers.0.mlp.down_proj.qzeros"))[0] == 0x7F7F7F7F);
  CHECK(qf::test::snapshot(dir) == before);
}

TEST_CASE("RTN AWQ GEMM in place with the -AWQ suffix", "[pipeline][rtn]") {
  const qf::test::TempDir tmp("rtn_inplace");
  const fs::path dir = tmp / "model";
  const auto m = qf::test::make_synthetic_llama(dir, 3);
  const auto before = qf::test::snapshot(dir);
  const Scheme s{4, 128, false, true};
  qf::pipeline::QuantizeRequest req;
  req.model_dir = dir;
  req.recipe = rtn_recipe(s,
                          "[layout]\npolicy = \"in_place\"\nsuffix = \"-AWQ\"\nquant_config_file = "
                          "\"quant_config-AWQ.json\"\nindex_file = \"model-AWQ.safetensors.index.json\"\n"
                          "always_write_index = true\ncopy_model_files = false\n",
                          "5GB");
  const auto registry = bundled();
  qf::pipeline::quantize(req, registry);
  CHECK(fs::exists(dir / "model-AWQ.safetensors"));
  CHECK(fs::exists(dir / "quant_config-AWQ.json"));
  const auto index = read_json(dir / "model-AWQ.safetensors.index.json");
  for (const auto& [name, file] : index["weight_map"].items()) CHECK(file == "model-AWQ.safetensors");
  const auto qc = read_json(dir / "quant_config-AWQ.json");
  CHECK(qc["quant_method"] == "awq");
  CHECK(qc["version"] == "gemm");
  CHECK(qc["zero_point"] == true);
  check_checkpoint(qf::st::Checkpoint::open(dir, "model-AWQ.safetensors.index.json"), m, s, false);
  // The originals are byte-identical; only new files were added.
  auto after = qf::test::snapshot(dir);
  for (const auto& [name, bytes] : before) CHECK(after.at(name) == bytes);
  // Running again replaces our own outputs, still without touching the originals.
  qf::pipeline::quantize(req, registry);
  after = qf::test::snapshot(dir);
  for (const auto& [name, bytes] : before) CHECK(after.at(name) == bytes);
}
