// compressed-tensors output: the packing against a worked example and against compressed-tensors'
// own code (goldens), the plan's refusals, and whole runs of the quantforge executable read back
// with a reader of our own and compared with the same grid in the ordinary GPTQ/AWQ output.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "cli/shell_run.hpp"
#include "ct_config.hpp"
#include "ct_linear.hpp"
#include "ct_pack.hpp"
#include "ct_plan.hpp"
#include "ct_test_reader.hpp"
#include "quantforge/half.hpp"
#include "quantforge/packing.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
namespace grid = qf::sdk::grid;
using qf::sdk::st::DType;

namespace {

// Field j of every word holds element j of its run of 32/bits (b = 4, 8), as a signed value.
std::vector<int32_t> unpack_signed_rows(const std::vector<int32_t>& words, int64_t rows, int64_t cols, int bits) {
  const int64_t per = 32 / bits, row_words = cols / per;
  std::vector<int32_t> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const auto w = static_cast<uint32_t>(words[static_cast<size_t>(r * row_words + c / per)]);
      const auto u = static_cast<int32_t>((w >> (bits * (c % per))) & ((1u << bits) - 1));
      out[static_cast<size_t>(r * cols + c)] = u - (1 << (bits - 1));
    }
  return out;
}

// The same along dim 0: words [rows/per, cols].
std::vector<int32_t> unpack_signed_columns(const std::vector<int32_t>& words, int64_t rows, int64_t cols, int bits) {
  const int64_t per = 32 / bits;
  std::vector<int32_t> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const auto w = static_cast<uint32_t>(words[static_cast<size_t>((r / per) * cols + c)]);
      out[static_cast<size_t>(r * cols + c)] =
          static_cast<int32_t>((w >> (bits * (r % per))) & ((1u << bits) - 1)) - (1 << (bits - 1));
    }
  return out;
}

// bf16 of a float by the definition: of the two bf16 neighbours, the nearer; on a tie the one
// with an even last mantissa bit.
uint16_t nearest_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t lo = bits & 0xFFFF0000u, hi = lo + 0x10000u;
  float flo, fhi;
  std::memcpy(&flo, &lo, 4);
  std::memcpy(&fhi, &hi, 4);
  const double dlo = std::fabs(static_cast<double>(f) - flo), dhi = std::fabs(static_cast<double>(fhi) - f);
  if (dlo < dhi || (dlo == dhi && ((lo >> 16) & 1u) == 0)) return static_cast<uint16_t>(lo >> 16);
  return static_cast<uint16_t>(hi >> 16);
}

float bf16_value(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

nlohmann::json goldens() {
  std::ifstream in(std::string(QF_SOURCE_DIR) + "/tests/data/goldens/compressed_tensors_pack.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

grid::LinearGrid grid_of(const nlohmann::json& c) {
  grid::LinearGrid g;
  g.prefix = c["name"];
  g.bits = c["bits"];
  g.out = c["out"];
  g.in = c["in"];
  g.groups = g.in / c["group_size"].get<int64_t>();
  for (int v : c["codes"]) g.codes.push_back(static_cast<uint8_t>(v));
  g.scales = c["scales_f16_bits"].get<std::vector<uint16_t>>();
  g.zeros = c["zeros"].get<std::vector<int32_t>>();
  g.g_idx = c["g_idx"].get<std::vector<int32_t>>();
  return g;
}

// A spool of hand-made packed tensors for the plan's checks.
struct SpoolFixture {
  qf::test::TempDir dir{"ct_spool"};
  qf::sdk::TensorSpool spool{(dir.path() / "spool").string()};
  void add(const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    const std::vector<uint8_t> bytes(static_cast<size_t>(n) * qf::sdk::st::dtype_size(dtype), 0);
    spool.add(name, dtype, shape, bytes.data(), bytes.size(), "test");
  }
  void add_g_idx(const std::string& name, const std::vector<int32_t>& v) {
    spool.add(name, DType::I32, {static_cast<int64_t>(v.size())}, v.data(), v.size() * 4, "test");
  }
  // A GPTQ Linear: qweight [in*bits/32, out], qzeros [groups, out*bits/32], scales [groups, out].
  void gptq_linear(const std::string& p, int64_t out, int64_t in, int64_t groups, int bits) {
    add(p + ".qweight", DType::I32, {in * bits / 32, out});
    add(p + ".qzeros", DType::I32, {groups, std::max<int64_t>(1, out * bits / 32)});
    add(p + ".scales", DType::F16, {groups, out});
  }
};

// What scheme_from_quantization_config gives for a GPTQ config (v2 when asymmetric).
grid::Scheme gptq_scheme(int bits, int64_t group, bool sym) {
  return grid::Scheme{"gptq", sym ? grid::Packing::GptqV1 : grid::Packing::GptqV2, bits, group, sym, false};
}

}  // namespace

TEST_CASE("pack-quantized words worked out by hand from the format description", "[ct][unit]") {
  // 4-bit: signed q -> q + 8 -> nibble j of the word at bits 4j.
  // [-8,-1,0,7,1,2,3,-3] -> [0,7,8,15,9,10,11,5] -> 0x5BA9F870; eight 7s -> all ones (-1 as int32).
  std::vector<int32_t> row4{0, 7, 8, 15, 9, 10, 11, 5, 15, 15, 15, 15, 15, 15, 15, 15};
  CHECK(qf::ct::pack_rows(row4, 1, 16, 4) == std::vector<int32_t>{1537865840, -1});
  // 8-bit: [-128,-1,0,127] -> [0,127,128,255] -> 0xFF807F00.
  CHECK(qf::ct::pack_rows(std::vector<int32_t>{0, 127, 128, 255}, 1, 4, 8) == std::vector<int32_t>{-8356096});
  // A partial last word: ten 4-bit values take two words, the second holding elements 8 and 9.
  CHECK(qf::ct::pack_rows(std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1, 10, 4) ==
        std::vector<int32_t>{static_cast<int32_t>(0x87654321u), 0xA9});
  // Zero points pack down the output channels: [8 rows, 2 cols] -> [1, 2] words.
  CHECK(qf::ct::pack_columns(std::vector<int32_t>{1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 15}, 8, 2, 4) ==
        std::vector<int32_t>{-2023406815, static_cast<int32_t>(0xF0000000u)});
  CHECK(qf::ct::packed_words(64, 4) == 8);
  CHECK(qf::ct::packed_words(64, 8) == 16);
  CHECK(qf::ct::packed_words(10, 4) == 2);
}

TEST_CASE("pack-quantized words and dequantized weights equal compressed-tensors' own code", "[ct][unit]") {
  const nlohmann::json all = goldens();
  REQUIRE(all["cases"].size() == 5);
  for (const auto& c : all["cases"]) {
    INFO(c["name"].get<std::string>());
    const grid::LinearGrid g = grid_of(c);
    qf::ct::LinearLayout layout;
    layout.symmetric = c["symmetric"];
    layout.act_order = c["act_order"];
    layout.scale_dtype = DType::F16;
    const qf::ct::CompressedLinear ct = qf::ct::compress_linear(g, layout);
    CHECK(std::vector<int64_t>{g.out, static_cast<int64_t>(ct.weight_packed.size()) / g.out} ==
          c["weight_packed_shape"].get<std::vector<int64_t>>());
    CHECK(ct.weight_packed == c["weight_packed"].get<std::vector<int32_t>>());
    CHECK(ct.weight_shape == std::vector<int64_t>{g.out, g.in});
    if (layout.symmetric) {
      CHECK(ct.weight_zero_point.empty());
    } else {
      CHECK(ct.weight_zero_point == c["weight_zero_point"].get<std::vector<int32_t>>());
      CHECK(c["weight_zero_point_shape"].get<std::vector<int64_t>>() ==
            std::vector<int64_t>{static_cast<int64_t>(ct.weight_zero_point.size()) / g.groups, g.groups});
    }
    CHECK(ct.weight_g_idx == (layout.act_order ? g.g_idx : std::vector<int32_t>{}));
    std::vector<uint16_t> scale_bits(ct.weight_scale.size() / 2);
    std::memcpy(scale_bits.data(), ct.weight_scale.data(), ct.weight_scale.size());
    CHECK(scale_bits == g.scales);
    // compressed-tensors dequantizes (q_signed - zp_signed) * scale; ours is (q - z) * scale.
    const auto expected = c["dequantized_f16_bits"].get<std::vector<uint16_t>>();
    int64_t mismatches = 0;
    for (int64_t o = 0; o < g.out; ++o)
      for (int64_t i = 0; i < g.in; ++i)
        mismatches += qf::sdk::float_to_half_bits(g.dequantized(o, i)) != expected[static_cast<size_t>(o * g.in + i)];
    CHECK(mismatches == 0);
  }
}

TEST_CASE("weight_scale in bf16 is the nearest bf16 of the fp16 scale; fp32 is exact", "[ct][unit]") {
  std::vector<uint16_t> half;
  for (uint32_t h = 0; h < 0x7C00u; h += 7) half.push_back(static_cast<uint16_t>(h));
  half.push_back(0x3C01);  // 1 + 2^-10: below bf16's precision, rounds to 1.0
  const auto bf = qf::ct::convert_scales(half, DType::BF16);
  const auto f32 = qf::ct::convert_scales(half, DType::F32);
  int64_t mismatches = 0;
  for (size_t k = 0; k < half.size(); ++k) {
    uint16_t b;
    float f;
    std::memcpy(&b, bf.data() + 2 * k, 2);
    std::memcpy(&f, f32.data() + 4 * k, 4);
    const float exact = qf::sdk::half_bits_to_float(half[k]);
    mismatches += b != nearest_bf16(exact);
    mismatches += f != exact;
  }
  CHECK(mismatches == 0);
  uint16_t last;
  std::memcpy(&last, bf.data() + bf.size() - 2, 2);
  CHECK(last == 0x3F80);
}

TEST_CASE("a symmetric layout refuses a grid whose zero points are not 2^(bits-1)", "[ct][unit]") {
  const nlohmann::json all = goldens();
  grid::LinearGrid g = grid_of(all["cases"][1]);  // asymmetric
  qf::ct::LinearLayout layout;
  layout.symmetric = true;
  CHECK_THROWS_WITH(qf::ct::compress_linear(g, layout),
                    Catch::Contains("w4_asym_g16") && Catch::Contains("declared a symmetric grid"));
}

TEST_CASE("the plan refuses what compressed-tensors cannot hold, naming the tensor and the fix", "[ct][unit]") {
  SECTION("bits other than 4 and 8") {
    SpoolFixture f;
    f.gptq_linear("model.layers.0.mlp.up_proj", 16, 64, 4, 2);
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(2, 16, true)),
                      Catch::Contains("bits = 2") && Catch::Contains("--bits 4 or --bits 8"));
  }
  SECTION("no quantized Linear") {
    SpoolFixture f;
    f.add("model.norm.weight", DType::BF16, {64});
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, true)),
                      Catch::Contains("no quantized Linear"));
  }
  SECTION("a grid without its scales, or parts without a qweight") {
    SpoolFixture f;
    f.add("model.layers.0.mlp.up_proj.qweight", DType::I32, {8, 16});
    f.add("model.layers.0.mlp.up_proj.qzeros", DType::I32, {4, 2});
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, true)),
                      Catch::Contains("model.layers.0.mlp.up_proj.qweight arrived without "
                                      "model.layers.0.mlp.up_proj.scales"));
    SpoolFixture g;
    g.gptq_linear("model.layers.0.mlp.up_proj", 16, 64, 4, 4);
    g.add("model.layers.0.mlp.down_proj.scales", DType::F16, {4, 16});
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(g.spool, gptq_scheme(4, 16, true)),
                      Catch::Contains("model.layers.0.mlp.down_proj.scales arrived without "
                                      "model.layers.0.mlp.down_proj.qweight"));
  }
  SECTION("partial groups") {
    SpoolFixture f;
    f.gptq_linear("model.layers.0.mlp.up_proj", 16, 64, 4, 4);
    f.gptq_linear("model.layers.0.mlp.down_proj", 16, 96, 4, 4);  // 96 = 3 x 32: the GPTQ ragged-group shape
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 32, true)),
                      Catch::Contains("model.layers.0.mlp.up_proj: 64 input features are not whole groups of 32") &&
                          Catch::Contains("--group_size"));
  }
  SECTION("zero points that do not fill whole words") {
    SpoolFixture f;
    f.gptq_linear("model.layers.0.mlp.up_proj", 4, 64, 4, 4);  // 4 output channels, 8 per word
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, false)),
                      Catch::Contains("model.layers.0.mlp.up_proj: 4 output features") && Catch::Contains("sym = true"));
  }
  SECTION("a g_idx naming a group that does not exist") {
    SpoolFixture f;
    f.gptq_linear("model.layers.0.mlp.up_proj", 16, 64, 4, 4);
    std::vector<int32_t> g_idx(64, 0);
    g_idx[5] = 4;
    f.add_g_idx("model.layers.0.mlp.up_proj.g_idx", g_idx);
    CHECK_THROWS_WITH(qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, true)),
                      Catch::Contains("model.layers.0.mlp.up_proj.g_idx names group 4"));
  }
}

TEST_CASE("the plan: group size, act-order from g_idx, and the Linears left in float", "[ct][unit]") {
  SpoolFixture f;
  f.add("model.embed_tokens.weight", DType::BF16, {32, 64});
  f.gptq_linear("model.layers.0.self_attn.q_proj", 64, 64, 4, 4);
  std::vector<int32_t> plain(64), shuffled(64);
  for (int i = 0; i < 64; ++i) {
    plain[static_cast<size_t>(i)] = i / 16;
    shuffled[static_cast<size_t>(i)] = (i % 4);  // every group still has 16 members
  }
  f.add_g_idx("model.layers.0.self_attn.q_proj.g_idx", plain);
  f.add("model.layers.0.self_attn.k_proj.weight", DType::BF16, {64, 64});  // left in float by the method
  f.add("model.layers.0.input_layernorm.weight", DType::BF16, {64});
  f.gptq_linear("model.layers.1.self_attn.q_proj", 64, 64, 4, 4);
  f.add("lm_head.weight", DType::BF16, {32, 64});
  qf::ct::Plan plan = qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, true));
  CHECK(plan.linears == std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj"});
  CHECK(plan.group_size == 16);
  CHECK_FALSE(plan.act_order);
  CHECK(plan.ignore == std::vector<std::string>{"lm_head", "model.layers.0.self_attn.k_proj"});

  f.add_g_idx("model.layers.1.self_attn.q_proj.g_idx", shuffled);
  plan = qf::ct::plan_checkpoint(f.spool, gptq_scheme(4, 16, true));
  CHECK(plan.act_order);

  const auto config = nlohmann::json::parse(qf::ct::quantization_config_json(plan));
  const auto& w = config["config_groups"]["group_0"]["weights"];
  CHECK(w["actorder"] == "group");
  CHECK(w["group_size"] == 16);
  CHECK(w["strategy"] == "group");
  CHECK(w["symmetric"] == true);
  CHECK(w["num_bits"] == 4);
  CHECK_FALSE(w.contains("zp_dtype"));  // compressed-tensors 0.11/0.12 refuse unknown keys here
  CHECK_FALSE(w.contains("scale_dtype"));
  plan.group_size = -1;
  plan.act_order = false;
  const auto channel = nlohmann::json::parse(qf::ct::quantization_config_json(plan));
  CHECK(channel["config_groups"]["group_0"]["weights"]["strategy"] == "channel");
  CHECK(channel["config_groups"]["group_0"]["weights"]["group_size"].is_null());
  CHECK(channel["config_groups"]["group_0"]["weights"]["actorder"].is_null());
}

TEST_CASE("the model's dtype from config.json, in either spelling", "[ct][unit]") {
  CHECK(qf::ct::model_float_dtype(R"({"torch_dtype": "bfloat16"})") == DType::BF16);
  CHECK(qf::ct::model_float_dtype(R"({"dtype": "float16"})") == DType::F16);
  CHECK(qf::ct::model_float_dtype(R"({"dtype": "float32"})") == DType::F32);
  CHECK_FALSE(qf::ct::model_float_dtype(R"({"dtype": "float8"})").has_value());
  CHECK_FALSE(qf::ct::model_float_dtype(R"({})").has_value());
}

// ---------------------------------------------------------------- whole runs of the executable

namespace {

const char* const kCtParts[] = {".weight_packed", ".weight_scale", ".weight_shape", ".weight_zero_point",
                                ".weight_g_idx"};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_ct_part(const std::string& name) {
  for (const char* p : kCtParts)
    if (ends_with(name, p)) return true;
  return false;
}

struct Expect {
  int bits = 4;
  bool symmetric = true;
  int64_t group_size = 128;
  bool act_order = false;
  std::string scale_dtype = "BF16";
  bool others_from_source = true;  // AWQ scales the norms: compare them with the ordinary output instead
};

qf::test::Result quantforge(const std::string& args) {
  return qf::test::run_shell(std::string(QF_BINARY_DIR) + "/bin/quantforge quantize " + args +
                             " --threads 1");
}

// A recipe with small shards, so the outputs have several files and an index.
fs::path write_recipe(const qf::test::TempDir& dir, const std::string& method, const std::string& options,
                      const std::string& shard = "2MB") {
  return dir.write(method + ".toml", "name = \"ct-test\"\n[method]\nplugin = \"" + method + "\"\n[method.options]\n" +
                                         options + "\n[[formats]]\nplugin = \"safetensors_writer\"\n"
                                         "[formats.options]\nmax_shard_size = \"" + shard +
                                         "\"\n[[formats]]\nplugin = \"index_writer\"\n");
}

size_t shard_count(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".safetensors";
  return n;
}

std::map<std::string, qf::test::RawTensor> read_folder(const fs::path& dir, nlohmann::json* index) {
  std::map<std::string, qf::test::RawTensor> all;
  std::map<std::string, std::string> file_of;
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    for (auto& [name, t] : qf::test::read_safetensors(e.path())) {
      REQUIRE(all.count(name) == 0);
      file_of[name] = e.path().filename().string();
      bytes += t.bytes.size();
      all.emplace(name, std::move(t));
    }
  }
  std::ifstream in(dir / "model.safetensors.index.json");
  if (!in) {  // one shard needs no index (transformers writes none either)
    CHECK(file_of.size() == all.size());
    for (const auto& [name, file] : file_of) CHECK(file == "model.safetensors");
    *index = nlohmann::json{{"weight_map", file_of}};
    return all;
  }
  *index = nlohmann::json::parse(in);
  CHECK((*index)["metadata"]["total_size"].get<uint64_t>() == bytes);
  CHECK((*index)["weight_map"].get<std::map<std::string, std::string>>() == file_of);  // every tensor, its file
  CHECK(file_of.size() == all.size());
  return all;
}

// The grid of one Linear from the ordinary output (GPTQ v1/v2 or AutoAWQ GEMM tensors).
struct ReferenceGrid {
  int64_t out = 0, in = 0, groups = 0;
  std::vector<int32_t> codes, zeros, g_idx;  // [out, in], [out, groups], [in]
  std::vector<uint16_t> scales;              // fp16 bits, [groups, out] as stored
};

ReferenceGrid reference_grid(const qf::st::Checkpoint& st, const std::string& p, const nlohmann::json& qc) {
  const auto ints = [&](const std::string& name) {
    const auto v = st.get(name);
    std::vector<int32_t> out(v.info->nbytes() / 4);
    std::memcpy(out.data(), v.data, v.info->nbytes());
    return out;
  };
  ReferenceGrid r;
  const auto sv = st.get(p + ".scales");
  r.groups = sv.info->shape[0];
  r.out = sv.info->shape[1];
  r.scales.resize(sv.info->nbytes() / 2);
  std::memcpy(r.scales.data(), sv.data, sv.info->nbytes());
  const auto qw = st.get(p + ".qweight");
  const int bits = qc.value("bits", qc.value("w_bit", 0));
  if (qc["quant_method"] == "awq") {
    r.in = qw.info->shape[0];
    r.codes = qf::pack::awq_unpack_qweight(ints(p + ".qweight"), r.out, r.in);
    r.zeros = qf::pack::awq_unpack_qzeros(ints(p + ".qzeros"), r.out, r.groups);
  } else {
    r.in = qw.info->shape[0] * 32 / bits;
    r.codes = qf::pack::gptq_unpack_qweight(ints(p + ".qweight"), r.out, r.in, bits);
    r.zeros = qf::pack::gptq_unpack_qzeros(ints(p + ".qzeros"), r.out, r.groups, bits,
                                           qc.value("checkpoint_format", "gptq") == "gptq");
  }
  if (st.contains(p + ".g_idx")) {
    r.g_idx = ints(p + ".g_idx");
  } else {
    for (int64_t i = 0; i < r.in; ++i) r.g_idx.push_back(static_cast<int32_t>(i / (r.in / r.groups)));
  }
  return r;
}

// The compressed-tensors folder against the ordinary output of the same run and against the model.
void compare_outputs(const fs::path& model, const fs::path& st_dir, const fs::path& ct_dir, const Expect& x) {
  std::ifstream cin(ct_dir / "config.json");
  REQUIRE(cin);
  const nlohmann::json config = nlohmann::json::parse(cin);
  const nlohmann::json& qc = config["quantization_config"];
  std::set<std::string> keys;
  for (const auto& [k, v] : qc.items()) keys.insert(k);
  CHECK(keys == std::set<std::string>{"config_groups", "format", "global_compression_ratio", "ignore",
                                      "kv_cache_scheme", "quant_method", "quantization_status", "sparsity_config",
                                      "transform_config", "version"});
  CHECK(qc["quant_method"] == "compressed-tensors");
  CHECK(qc["format"] == "pack-quantized");
  CHECK(qc["quantization_status"] == "compressed");
  CHECK(qc["version"] == qf::ct::kFormatVersion);
  CHECK(qc["ignore"] == nlohmann::json::array({"lm_head"}));
  CHECK(qc["kv_cache_scheme"].is_null());
  CHECK(qc["global_compression_ratio"].is_null());
  CHECK(qc["sparsity_config"] == nlohmann::json::object());
  REQUIRE(qc["config_groups"].size() == 1);
  const auto& group = qc["config_groups"]["group_0"];
  CHECK(group["targets"] == nlohmann::json::array({"Linear"}));
  CHECK(group["format"] == "pack-quantized");
  CHECK(group["input_activations"].is_null());
  CHECK(group["output_activations"].is_null());
  const auto& w = group["weights"];
  CHECK(w["num_bits"] == x.bits);
  CHECK(w["type"] == "int");
  CHECK(w["symmetric"] == x.symmetric);
  CHECK(w["strategy"] == "group");
  CHECK(w["group_size"] == x.group_size);
  CHECK(w["dynamic"] == false);
  CHECK(w["block_structure"].is_null());
  CHECK(w["observer"] == "minmax");
  CHECK(w["observer_kwargs"] == nlohmann::json::object());
  CHECK(w["actorder"] == (x.act_order ? nlohmann::json("group") : nlohmann::json(nullptr)));
  CHECK_FALSE(fs::exists(ct_dir / "quantize_config.json"));  // the GPTQ file would contradict config.json

  nlohmann::json index;
  const auto ct = read_folder(ct_dir, &index);
  CHECK(index["weight_map"].size() == ct.size());
  std::ifstream sin(st_dir / "config.json");
  const nlohmann::json st_qc = nlohmann::json::parse(sin)["quantization_config"];
  const auto st = qf::st::Checkpoint::open(st_dir);
  const auto source = qf::st::Checkpoint::open(model);
  const int bits = x.bits;
  const int32_t mid = 1 << (bits - 1);

  std::set<std::string> linear_weights;
  int64_t linears = 0;
  for (const auto& name : st.names()) {
    if (!ends_with(name, ".qweight")) continue;
    const std::string p = name.substr(0, name.size() - 8);
    INFO(p);
    ++linears;
    linear_weights.insert(p + ".weight");
    const ReferenceGrid r = reference_grid(st, p, st_qc);
    const auto& packed = ct.at(p + ".weight_packed");
    CHECK(packed.dtype == "I32");
    REQUIRE(packed.shape == std::vector<int64_t>{r.out, r.in * bits / 32});
    const auto& shape = ct.at(p + ".weight_shape");
    CHECK(shape.dtype == "I64");
    CHECK(shape.values<int64_t>() == std::vector<int64_t>{r.out, r.in});
    const auto& scale = ct.at(p + ".weight_scale");
    CHECK(scale.dtype == x.scale_dtype);
    REQUIRE(scale.shape == std::vector<int64_t>{r.out, r.groups});
    CHECK(ct.count(p + ".weight_zero_point") == (x.symmetric ? 0u : 1u));
    CHECK(ct.count(p + ".weight_g_idx") == (x.act_order ? 1u : 0u));
    CHECK(ct.count(p + ".weight") + ct.count(p + ".qweight") + ct.count(p + ".scales") == 0);

    const std::vector<int32_t> q = unpack_signed_rows(packed.values<int32_t>(), r.out, r.in, bits);
    std::vector<int32_t> zp(static_cast<size_t>(r.out * r.groups), 0);
    if (!x.symmetric) {
      const auto& z = ct.at(p + ".weight_zero_point");
      CHECK(z.dtype == "I32");
      REQUIRE(z.shape == std::vector<int64_t>{r.out * bits / 32, r.groups});
      zp = unpack_signed_columns(z.values<int32_t>(), r.out, r.groups, bits);
    }
    const std::vector<int32_t> g_idx = x.act_order ? ct.at(p + ".weight_g_idx").values<int32_t>() : r.g_idx;
    if (x.act_order) {
      CHECK(ct.at(p + ".weight_g_idx").dtype == "I32");
      CHECK(g_idx == r.g_idx);
    }
    // The grid: codes and zero points shifted by 2^(bits-1), scales as the model dtype rounds them;
    // then compressed-tensors' dequantization (q - zp) * scale[g_idx] against the reference's.
    int64_t code_mismatches = 0, zero_mismatches = 0, scale_mismatches = 0, weight_mismatches = 0;
    const auto scale_bits = x.scale_dtype == "F32" ? std::vector<uint16_t>{} : scale.values<uint16_t>();
    const auto scale_f32 = x.scale_dtype == "F32" ? scale.values<float>() : std::vector<float>{};
    const auto ct_scale = [&](int64_t o, int64_t k) {
      const size_t at = static_cast<size_t>(o * r.groups + k);
      return x.scale_dtype == "F32" ? scale_f32[at]
             : x.scale_dtype == "F16" ? qf::sdk::half_bits_to_float(scale_bits[at])
                                      : bf16_value(scale_bits[at]);
    };
    const auto expected_scale = [&](int64_t o, int64_t k) {
      const float f = qf::sdk::half_bits_to_float(r.scales[static_cast<size_t>(k * r.out + o)]);
      return x.scale_dtype == "BF16" ? bf16_value(nearest_bf16(f)) : f;
    };
    for (int64_t o = 0; o < r.out; ++o) {
      for (int64_t k = 0; k < r.groups; ++k) {
        const size_t at = static_cast<size_t>(o * r.groups + k);
        zero_mismatches += zp[at] + mid != r.zeros[at];
        scale_mismatches += ct_scale(o, k) != expected_scale(o, k);
      }
      for (int64_t i = 0; i < r.in; ++i) {
        const size_t at = static_cast<size_t>(o * r.in + i);
        code_mismatches += q[at] + mid != r.codes[at];
        const int32_t kc = g_idx[static_cast<size_t>(i)], kr = r.g_idx[static_cast<size_t>(i)];
        const float mine = static_cast<float>(q[at] - zp[static_cast<size_t>(o * r.groups + kc)]) * ct_scale(o, kc);
        const float theirs = static_cast<float>(r.codes[at] - r.zeros[static_cast<size_t>(o * r.groups + kr)]) *
                             expected_scale(o, kr);
        weight_mismatches += std::memcmp(&mine, &theirs, 4) != 0;
      }
    }
    CHECK(code_mismatches == 0);
    CHECK(zero_mismatches == 0);
    CHECK(scale_mismatches == 0);
    CHECK(weight_mismatches == 0);
  }
  CHECK(linears > 0);

  // Every other tensor is the model's own (or the ordinary output's), byte for byte, and nothing is missing.
  const qf::st::Checkpoint& others_ref = x.others_from_source ? source : st;
  int64_t others = 0;
  for (const auto& [name, t] : ct) {
    if (is_ct_part(name)) continue;
    INFO(name);
    ++others;
    REQUIRE(others_ref.contains(name));
    const auto v = others_ref.get(name);
    CHECK(t.dtype == std::string(qf::sdk::st::dtype_name(v.info->dtype)));
    CHECK(t.shape == v.info->shape);
    REQUIRE(t.bytes.size() == v.info->nbytes());
    CHECK(std::memcmp(t.bytes.data(), v.data, t.bytes.size()) == 0);
  }
  CHECK(others + static_cast<int64_t>(linear_weights.size()) == static_cast<int64_t>(source.names().size()));
  for (const auto& name : linear_weights) CHECK(source.contains(name));
}

struct RunPair {
  fs::path st, ct;
};

// The same recipe twice, ordinary output and compressed-tensors, both must succeed.
RunPair run_both(const qf::test::TempDir& tmp, const fs::path& model, const std::string& recipe_args,
                 const std::string& tag) {
  RunPair r{tmp.path() / (tag + "_st"), tmp.path() / (tag + "_ct")};
  const auto a = quantforge(model.string() + " " + recipe_args + " --output " + r.st.string());
  INFO(a.output);
  REQUIRE(a.code == 0);
  const auto b = quantforge(model.string() + " " + recipe_args + " --format compressed-tensors --output " + r.ct.string());
  INFO(b.output);
  REQUIRE(b.code == 0);
  return r;
}

const fs::path kTinyLlama = fs::path(QF_SOURCE_DIR) / "tests/data/models/tiny-llama";

}  // namespace

TEST_CASE("compressed-tensors from RTN 4-bit asymmetric (GPTQ v2 grid): zero points, bf16 scales, shards and index",
          "[ct][model]") {
  const qf::test::TempDir tmp("ct_rtn_asym");
  const fs::path recipe = write_recipe(tmp, "rtn", "bits = 4\ngroup_size = 128\nsym = false\ncheckpoint_format = \"gptq\"");
  const RunPair r = run_both(tmp, kTinyLlama, "--recipe " + recipe.string(), "rtn4");
  Expect x;
  x.symmetric = false;
  compare_outputs(kTinyLlama, r.st, r.ct, x);
  CHECK(fs::exists(r.ct / "tokenizer.json"));
  CHECK(fs::exists(r.ct / "model-00001-of-00003.safetensors"));  // 2 MB shards of a 5.9 MB checkpoint
  CHECK(shard_count(r.ct) == 3);
}

TEST_CASE("compressed-tensors from an AutoAWQ GEMM grid of an fp16 model: fp16 scales carried exactly",
          "[ct][model]") {
  const qf::test::TempDir tmp("ct_rtn_awq");
  const fs::path model = fs::path(QF_SOURCE_DIR) / "tests/data/models/mistral-random";
  const fs::path recipe = write_recipe(tmp, "rtn", "bits = 4\ngroup_size = 64\nsym = false\ncheckpoint_format = \"awq\"",
                                     "150KB");
  const RunPair r = run_both(tmp, model, "--recipe " + recipe.string(), "awq4");
  Expect x;
  x.symmetric = false;
  x.group_size = 64;
  x.scale_dtype = "F16";
  compare_outputs(model, r.st, r.ct, x);
  CHECK(shard_count(r.ct) > 1);
}

TEST_CASE("compressed-tensors from GPTQ 4-bit symmetric with act-order: weight_g_idx and actorder group",
          "[ct][model]") {
  const qf::test::TempDir tmp("ct_gptq4");
  const fs::path recipe = write_recipe(tmp, "gptq", "bits = 4\ngroup_size = 128\nsym = true\ndesc_act = true");
  const RunPair r = run_both(tmp, kTinyLlama,
                             "--recipe " + recipe.string() + " --dataset bundled --num_samples 4 --seqlen 64", "gptq4");
  Expect x;
  x.act_order = true;
  compare_outputs(kTinyLlama, r.st, r.ct, x);
}

TEST_CASE("compressed-tensors from GPTQ 8-bit symmetric (the default GPTQ grid)", "[ct][model]") {
  const qf::test::TempDir tmp("ct_gptq8");
  const fs::path recipe = write_recipe(tmp, "gptq", "bits = 8\ngroup_size = 128\nsym = true");
  const RunPair r = run_both(tmp, kTinyLlama,
                             "--recipe " + recipe.string() + " --dataset bundled --num_samples 4 --seqlen 64", "gptq8");
  Expect x;
  x.bits = 8;
  compare_outputs(kTinyLlama, r.st, r.ct, x);
}

TEST_CASE("compressed-tensors from AWQ (AutoAWQ GEMM, zero points): the grid and the scaled norms carried exactly",
          "[ct][model]") {
  const qf::test::TempDir tmp("ct_awq");
  const RunPair r = run_both(tmp, kTinyLlama, "--awq --dataset bundled --num_samples 4 --seqlen 64", "awq");
  Expect x;
  x.symmetric = false;
  x.others_from_source = false;
  compare_outputs(kTinyLlama, r.st, r.ct, x);
  CHECK(shard_count(r.ct) == 1);
  CHECK_FALSE(fs::exists(r.ct / "model.safetensors.index.json"));
}

TEST_CASE("compressed-tensors refusals end the run with the reason and leave no output folder", "[ct][model]") {
  const qf::test::TempDir tmp("ct_refuse");
  const fs::path two = tmp.path() / "two_bit";
  auto res = quantforge(kTinyLlama.string() + " --recipe rtn --bits 2 --format compressed-tensors --output " + two.string());
  CHECK(res.code != 0);
  CHECK_THAT(res.output, Catch::Contains("bits = 2") && Catch::Contains("--bits 4 or --bits 8"));
  CHECK_FALSE(fs::exists(two));
  const fs::path ragged = tmp.path() / "ragged";
  res = quantforge(kTinyLlama.string() + " --recipe rtn --bits 8 --sym true --group_size 512 --format compressed-tensors "
                   "--output " + ragged.string());
  CHECK(res.code != 0);
  CHECK_THAT(res.output, Catch::Contains("input features are not whole groups of 512") &&
                             Catch::Contains("--group_size"));
  CHECK_FALSE(fs::exists(ragged));
}
