// GGUF outputs through the quantforge executable: `convert` writes the model unquantized with every
// value carried exactly, and GGUF runs keep the promises every run keeps (the model's files are
// never touched, a folder we did not write is never clobbered, a rerun replaces only our own file,
// a killed run leaves no file and resumes to the same bytes).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "child_process.hpp"
#include "folder_checks.hpp"
#include "formats/gguf_test_reader.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::test::copy_model;
using qf::test::run_quantforge;
using qf::test::snapshot;
using qf::test::TempDir;

namespace {

constexpr uint32_t kF32 = 0, kBF16 = 30;

// The model folder's own files (what a run must leave as they were).
std::map<std::string, std::string> model_files(const fs::path& dir) {
  auto files = snapshot(dir);
  for (auto it = files.begin(); it != files.end();)
    it = it->first.rfind("model", 0) == 0 && it->first.find(".gguf") != std::string::npos ? files.erase(it) : std::next(it);
  files.erase("quantize.log");
  files.erase(".quantforge-manifest-BF16.json");
  files.erase(".quantforge-manifest-F32.json");
  return files;
}

// llama's q/k rows in llama.cpp's order: row h*D + 2j + t holds source row h*D + t*D/2 + j.
int64_t source_row(const std::string& gguf_name, int64_t r) {
  const bool permuted = gguf_name.find("attn_q.") != std::string::npos || gguf_name.find("attn_k.") != std::string::npos;
  if (!permuted) return r;
  const int64_t d = 64, h = r / d, w = r % d;
  return h * d + (w % 2) * (d / 2) + w / 2;
}

// The tiny llama's checkpoint names as llama.cpp names them.
std::string gguf_name(const std::string& hf) {
  static const std::pair<const char*, const char*> kParts[] = {
      {"self_attn.q_proj", "attn_q"},       {"self_attn.k_proj", "attn_k"},      {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"},  {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},        {"input_layernorm", "attn_norm"},    {"post_attention_layernorm", "ffn_norm"}};
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string layers = "model.layers.";
  const auto dot = hf.find('.', layers.size());
  const std::string block = "blk." + hf.substr(layers.size(), dot - layers.size()) + ".";
  const std::string rest = hf.substr(dot + 1);
  for (const auto& [from, to] : kParts)
    if (rest == std::string(from) + ".weight") return block + to + ".weight";
  FAIL("unexpected tensor " << hf);
  return {};
}

float bf16_value(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

// Every checkpoint tensor is in the GGUF with the same values: bf16 bits as stored (type BF16) or
// their exact f32 widening (F32; norms are always F32).
void check_unquantized_copy(const fs::path& model, const fs::path& gguf, uint32_t matrix_type) {
  const auto c = qf::test::read_gguf(gguf.string());
  const auto ckpt = qf::st::Checkpoint::open(model);
  CHECK(c.tensor_names.size() == ckpt.names().size());
  CHECK(c.values.at("general.file_type").number == (matrix_type == kBF16 ? 32 : 0));
  for (const auto& hf : ckpt.names()) {
    const std::string name = gguf_name(hf);
    INFO(hf << " -> " << name);
    REQUIRE(c.tensors.count(name));
    const auto view = ckpt.get(hf);
    const auto& shape = view.info->shape;
    const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape.back();
    const auto* src = reinterpret_cast<const uint16_t*>(view.data);  // the fixture is bf16
    const auto& t = c.tensors.at(name);
    CHECK(t.type == (shape.size() == 2 ? matrix_type : kF32));
    int64_t mismatches = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < cols; ++k) {
        const uint16_t want = src[source_row(name, r) * cols + k];
        if (t.type == kBF16) {
          uint16_t got;
          std::memcpy(&got, c.data(name) + 2 * (r * cols + k), 2);
          mismatches += got != want;
        } else {
          float got;
          std::memcpy(&got, c.data(name) + 4 * (r * cols + k), 4);
          mismatches += got != bf16_value(want);
        }
      }
    CHECK(mismatches == 0);
  }
}

}  // namespace

TEST_CASE("convert writes the model unquantized beside it, every value exact; a rerun replaces only its file",
          "[cli][gguf]") {
  TempDir t("convert");
  const fs::path m = copy_model(t);
  const auto before = model_files(m);
  auto [code, output] = run_quantforge({"convert", m.string(), "--format", "gguf", "--threads", "1"});
  INFO(output);
  REQUIRE(code == 0);
  CHECK(model_files(m) == before);
  REQUIRE(fs::exists(m / "model-BF16.gguf"));  // --type auto: config.json's dtype
  check_unquantized_copy(m, m / "model-BF16.gguf", kBF16);
  const std::string first = qf::test::read(m / "model-BF16.gguf");

  std::tie(code, output) = run_quantforge({"convert", m.string(), "--type", "f32", "--threads", "1"});
  REQUIRE(code == 0);
  check_unquantized_copy(m, m / "model-F32.gguf", kF32);
  CHECK(qf::test::read(m / "model-BF16.gguf") == first);  // the other type's file is not ours to touch

  std::tie(code, output) = run_quantforge({"convert", m.string(), "--threads", "1"});
  REQUIRE(code == 0);
  CHECK(qf::test::read(m / "model-BF16.gguf") == first);  // same input, same bytes
  CHECK(model_files(m) == before);
  CHECK_FALSE(qf::test::has_hidden_leftovers(m));
}

namespace {

// SHA-256 over an array's elements as tools/fixtures/make_gguf_metadata_golden.py hashes them:
// strings "<byte length>:<bytes>", numbers "%.9g,".
std::string array_digest(const qf::test::GgufValue& v) {
  std::string text;
  char buf[64];
  for (const auto& item : v.items) text += std::to_string(item.size()) + ":" + item;
  for (double x : v.numbers) {
    std::snprintf(buf, sizeof buf, "%.9g,", x);
    text += buf;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) == 1);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

}  // namespace

namespace {

// Our GGUF against the golden of what llama.cpp's converter wrote for the same model folder
// (tools/fixtures/make_gguf_metadata_golden.py): the same keys with the same types and values (arrays by
// element type, count and digest), the same tensors with the same types and dimensions. Keys that only
// describe the file (names the converter derives from model cards) and `skip` are not compared.
void check_against_converter_golden(const fs::path& gguf, const std::string& golden_name,
                                    const std::set<std::string>& skip = {}) {
  static const std::set<std::string> kDescriptive{"general.name", "general.basename", "general.size_label",
                                                  "general.finetune", "general.version", "general.organization",
                                                  "general.license", "general.tags", "general.languages",
                                                  "general.quantized_by"};
  std::ifstream in(std::string(QF_TEST_DATA_DIR) + "/goldens/" + golden_name);
  REQUIRE(in);
  const nlohmann::json golden = nlohmann::json::parse(in);
  const auto c = qf::test::read_gguf(gguf.string());
  const auto ignored = [&](const std::string& key) { return kDescriptive.count(key) || skip.count(key); };

  std::set<std::string> expected_keys;
  for (const auto& k : golden["keys"]) {
    const std::string name = k["name"];
    if (ignored(name)) continue;
    expected_keys.insert(name);
    INFO(name);
    REQUIRE(c.values.count(name));
    const auto& v = c.values.at(name);
    CHECK(v.type == k["type"].get<uint32_t>());
    if (k.contains("sha256")) {
      CHECK(v.element_type == k["element_type"].get<uint32_t>());
      CHECK(v.items.size() + v.numbers.size() == k["count"].get<size_t>());
      CHECK(array_digest(v) == k["sha256"].get<std::string>());
    } else if (k["value"].is_string()) {
      CHECK(v.text == k["value"].get<std::string>());
    } else if (k["value"].is_boolean()) {
      CHECK(v.number == (k["value"].get<bool>() ? 1.0 : 0.0));
    } else {
      CHECK(v.number == k["value"].get<double>());
    }
  }
  std::set<std::string> ours;
  for (const auto& key : c.keys)
    if (!ignored(key)) ours.insert(key);
  CHECK(ours == expected_keys);

  std::vector<std::string> names;
  for (const auto& tensor : golden["tensors"]) {
    const std::string name = tensor["name"];
    names.push_back(name);
    INFO(name);
    REQUIRE(c.tensors.count(name));
    CHECK(c.tensors.at(name).type == tensor["type"].get<uint32_t>());
    CHECK(c.tensors.at(name).ne == tensor["ne"].get<std::vector<uint64_t>>());
  }
  // The same set; the order differs by design (ours block by block, the converter's in the order of the
  // checkpoint's shards), and llama.cpp finds tensors by name.
  std::vector<std::string> ours_sorted = c.tensor_names;
  std::sort(ours_sorted.begin(), ours_sorted.end());
  std::sort(names.begin(), names.end());
  CHECK(ours_sorted == names);
}

}  // namespace

TEST_CASE("convert's metadata and tensor table equal what llama.cpp's convert_hf_to_gguf.py writes", "[cli][gguf]") {
  // Golden: llama.cpp's converter run on the same fixture (tools/fixtures/make_gguf_metadata_golden.py).
  TempDir t("convert_golden");
  const fs::path m = copy_model(t);
  auto [code, output] = run_quantforge({"convert", m.string(), "--type", "bf16", "--threads", "1"});
  INFO(output);
  REQUIRE(code == 0);
  check_against_converter_golden(m / "model-BF16.gguf", "gguf_converter_tiny-llama.json");
}

TEST_CASE("convert refuses what it cannot do with a clear message and writes nothing", "[cli][gguf]") {
  TempDir t("convert_refuse");
  const fs::path m = copy_model(t);
  const auto before = snapshot(m);
  auto [code, output] = run_quantforge({"convert", m.string(), "--format", "safetensors"});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("convert writes gguf only"));
  std::tie(code, output) = run_quantforge({"convert", m.string(), "--type", "q5_k"});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("--type q5_k is not a type convert writes"));
  std::tie(code, output) = run_quantforge({"convert", (t.path() / "missing").string()});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("model folder not found"));
  const fs::path opt = fs::path(QF_TEST_DATA_DIR) / "models" / "opt-random";
  std::tie(code, output) = run_quantforge({"convert", opt.string(), "--output", (t.path() / "opt").string()});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("model_type \"opt\" is not supported"));
  CHECK_FALSE(fs::exists(t.path() / "opt"));
  CHECK(snapshot(m) == before);
  CHECK_THAT(output, !Catch::Contains("terminate called"));
}

namespace {

float half_value(uint16_t h) {  // IEEE binary16, subnormals included
  const int exponent = (h >> 10) & 31, mantissa = h & 1023;
  const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                        : std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

// llama.cpp's Q6_K layout read back (210 bytes per 256 values): 6-bit levels from ql/qh, int8
// sub-block scales, fp16 super-block d. Written from the block description, not from our encoder.
std::vector<float> dequantize_q6_k(const uint8_t* blk, int64_t n) {
  std::vector<float> out;
  for (int64_t b = 0; b < n / 256; ++b, blk += 210) {
    uint16_t d_bits;
    std::memcpy(&d_bits, blk + 208, 2);
    const float d = half_value(d_bits);
    float values[256];
    for (int half = 0; half < 2; ++half)
      for (int j = 0; j < 32; ++j)
        for (int quarter = 0; quarter < 4; ++quarter) {
          const int i = 128 * half + 32 * quarter + j;
          const uint8_t low = blk[64 * half + j + 32 * (quarter & 1)] >> (4 * (quarter >> 1)) & 0xF;
          const uint8_t high = blk[128 + 32 * half + j] >> (2 * quarter) & 3;
          const int level = (low | high << 4) - 32;
          values[i] = d * static_cast<float>(static_cast<int8_t>(blk[192 + i / 16])) * static_cast<float>(level);
        }
    out.insert(out.end(), values, values + 256);
  }
  return out;
}

}  // namespace

TEST_CASE("--float-type q6_k writes embeddings and lm_head as Q6_K close to the checkpoint; misuse writes nothing",
          "[cli][gguf]") {
  TempDir t("gguf_float_type");
  const fs::path m = copy_model(t), out = t.path() / "out";
  const auto before = snapshot(m);
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--float-type", "q6_k",
                                        "--output", out.string(), "--threads", "1"});
  CHECK(code == 2);
  CHECK_THAT(output, Catch::Contains("use it with --format gguf"));
  std::tie(code, output) = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--format", "gguf",
                                           "--float-type", "q5_k", "--output", out.string(), "--threads", "1"});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("float_type must be auto, f32, f16, bf16, q8_0 or q6_k"));
  CHECK_FALSE(fs::exists(out));
  CHECK(snapshot(m) == before);

  std::tie(code, output) = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--format", "gguf",
                                           "--float-type", "q6_k", "--output", out.string(), "--threads", "1"});
  INFO(output);
  REQUIRE(code == 0);
  const auto c = qf::test::read_gguf((out / "model-Q4_1.gguf").string());
  const auto ckpt = qf::st::Checkpoint::open(m);
  for (const auto& [hf, name] : {std::pair<std::string, std::string>{"model.embed_tokens.weight", "token_embd.weight"},
                                 {"lm_head.weight", "output.weight"}}) {
    INFO(name);
    REQUIRE(c.tensors.at(name).type == 14u);  // GGML_TYPE_Q6_K
    const auto view = ckpt.get(hf);
    const int64_t n = view.info->shape[0] * view.info->shape[1];
    const auto* src = reinterpret_cast<const uint16_t*>(view.data);
    const std::vector<float> back = dequantize_q6_k(c.data(name), n);
    int64_t outside = 0;
    for (int64_t b = 0; b < n / 256; ++b) {  // within 1/20 of each super-block's largest |value|
      float amax = 0;
      for (int64_t i = 0; i < 256; ++i) amax = std::max(amax, std::fabs(bf16_value(src[b * 256 + i])));
      for (int64_t i = 0; i < 256; ++i) outside += std::fabs(back[b * 256 + i] - bf16_value(src[b * 256 + i])) > amax / 20;
    }
    CHECK(outside == 0);
  }
  CHECK(c.tensors.at("blk.0.attn_q.weight").type == 3u);  // the grid itself stays Q4_1
  CHECK(snapshot(m) == before);
}

TEST_CASE("GGUF into a folder we did not write is refused; --overwrite replaces it as a whole", "[cli][gguf][safe]") {
  TempDir t("gguf_output");
  const fs::path m = copy_model(t), out = t.path() / "out";
  fs::create_directories(out);
  std::ofstream(out / "notes.txt") << "the user's notes";
  const auto before = snapshot(out);
  const std::vector<std::string> args{"quantize", m.string(), "--recipe", "rtn", "--format", "gguf",
                                      "--output", out.string(), "--threads", "1"};
  auto [code, output] = run_quantforge(args);
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("--overwrite"));
  CHECK(snapshot(out) == before);

  auto overwrite = args;
  overwrite.push_back("--overwrite");
  std::tie(code, output) = run_quantforge(overwrite);
  REQUIRE(code == 0);
  CHECK_FALSE(fs::exists(out / "notes.txt"));
  CHECK(fs::exists(out / "model-Q4_1.gguf"));  // RTN's default grid is asymmetric 4-bit
  CHECK_FALSE(fs::exists(out / "config.json"));  // one self-contained file
}

TEST_CASE("a GGUF run killed after a layer leaves no file and resumes to the same bytes", "[cli][gguf][resume]") {
  TempDir t("gguf_resume");
  // The same folder name in both: GGUF's general.name is the model folder's name.
  const fs::path reference = copy_model(t, "reference/tiny-llama"), m = copy_model(t, "resumed/tiny-llama");
  const auto rtn = [](const fs::path& model) {
    return std::vector<std::string>{"quantize", model.string(), "--recipe", "rtn", "--format", "gguf", "--threads", "1"};
  };
  REQUIRE(run_quantforge(rtn(reference)).first == 0);
  REQUIRE(fs::exists(reference / "RTN_4bit_CPU" / "model-Q4_1.gguf"));

  CHECK(run_quantforge(rtn(m), {"QUANTFORGE_TEST_KILL_AFTER_LAYER=1"}).first == 128 + SIGKILL);
  CHECK_FALSE(fs::exists(m / "RTN_4bit_CPU"));
  auto [code, output] = run_quantforge(rtn(m));
  REQUIRE(code == 0);
  CHECK_THAT(output, Catch::Contains("2 of 4 layers were finished"));
  qf::test::check_same_output(reference / "RTN_4bit_CPU", m / "RTN_4bit_CPU");

  // convert is a run like any other: killed, it resumes too.
  const auto convert = [](const fs::path& model) {
    return std::vector<std::string>{"convert", model.string(), "--threads", "1"};
  };
  REQUIRE(run_quantforge(convert(reference)).first == 0);
  CHECK(run_quantforge(convert(m), {"QUANTFORGE_TEST_KILL_AFTER_LAYER=2"}).first == 128 + SIGKILL);
  CHECK_FALSE(fs::exists(m / "model-BF16.gguf"));
  REQUIRE(run_quantforge(convert(m)).first == 0);
  const bool same_bytes = qf::test::read(m / "model-BF16.gguf") == qf::test::read(reference / "model-BF16.gguf");
  CHECK(same_bytes);
  CHECK_FALSE(qf::test::has_hidden_leftovers(m));
}

namespace {

// tests/data/models/llama-random (512-row embeddings) with the tokenizer files of `tokenizer` (a folder
// under tests/data/tokenizers).
fs::path llama_random_with(const TempDir& t, const std::string& tokenizer, const std::vector<std::string>& files) {
  const fs::path data(QF_TEST_DATA_DIR), m = t.path() / "llama-random";
  fs::create_directories(m);
  for (const auto& entry : fs::directory_iterator(data / "models" / "llama-random")) fs::copy(entry.path(), m / entry.path().filename());
  for (const auto& f : files) fs::copy(data / "tokenizers" / tokenizer / f, m / f);
  return m;
}

}  // namespace

TEST_CASE("a SentencePiece tokenizer.model goes into the GGUF as llama.cpp's converter writes it", "[cli][gguf]") {
  TempDir t("convert_spm");
  const fs::path m = llama_random_with(t, "spm-bpe", {"tokenizer.model", "tokenizer_config.json"});
  const auto before = snapshot(m);
  auto [code, output] = run_quantforge({"convert", m.string(), "--threads", "1"});
  INFO(output);
  REQUIRE(code == 0);
  const auto after = snapshot(m);
  for (const auto& [name, digest] : before) CHECK(after.at(name) == digest);  // the model's files untouched
  // Every key and tensor as llama.cpp's converter wrote them for the same folder (golden from the GPU
  // machine, where its SentencePiece reader runs).
  check_against_converter_golden(m / "model-BF16.gguf", "gguf_converter_llama-spm-model.json");
  const auto c = qf::test::read_gguf((m / "model-BF16.gguf").string());
  CHECK(c.values.at("tokenizer.ggml.model").text == "llama");
  CHECK(c.values.at("tokenizer.ggml.pre").text == "default");
  CHECK_FALSE(c.values.count("tokenizer.ggml.merges"));

  // Golden: SentencePiece's own spm_export_vocab listing of the same model (piece TAB score).
  std::ifstream tsv(std::string(QF_TEST_DATA_DIR) + "/tokenizers/spm-bpe/vocab.tsv");
  std::vector<std::string> pieces;
  std::vector<double> scores;
  for (std::string line; std::getline(tsv, line);) {
    const auto tab = line.find('\t');
    pieces.push_back(line.substr(0, tab));
    scores.push_back(std::stod(line.substr(tab + 1)));
  }
  REQUIRE(pieces.size() == 512);
  const auto& tokens = c.values.at("tokenizer.ggml.tokens").items;
  const auto& got_scores = c.values.at("tokenizer.ggml.scores").numbers;
  const auto& types = c.values.at("tokenizer.ggml.token_type").numbers;
  REQUIRE(tokens.size() == 512);
  REQUIRE(got_scores.size() == 512);
  REQUIRE(types.size() == 512);
  int bytes = 0;
  for (size_t i = 0; i < 512; ++i) {
    INFO("id " << i << " " << pieces[i]);
    CHECK(tokens[i] == pieces[i]);
    // tokenizer_config.json's added_tokens_decoder makes ids 0..2 control tokens scoring -1000, as the
    // converter does; the model's own user-defined piece is a normal token to the converter.
    const bool configured = i < 3;
    CHECK(got_scores[i] == (configured ? -1000.0 : scores[i]));
    const bool is_byte = pieces[i].size() == 6 && pieces[i].rfind("<0x", 0) == 0;
    bytes += is_byte;
    const double want_type = configured ? 3 : is_byte ? 6 : 1;
    CHECK(types[i] == want_type);
  }
  CHECK(bytes == 256);
  CHECK(c.values.at("tokenizer.ggml.bos_token_id").number == 1);
  CHECK(c.values.at("tokenizer.ggml.eos_token_id").number == 2);
  // No tokenizer.json, so no added-token table to find "<unk>" in and config.json names no unk id: like
  // the converter, no unknown_token_id (llama.cpp's SentencePiece default is 0, the model's <unk>).
  CHECK_FALSE(c.values.count("tokenizer.ggml.unknown_token_id"));
  CHECK(c.values.at("tokenizer.ggml.add_bos_token").number == 1);
  CHECK(c.values.at("tokenizer.ggml.add_eos_token").number == 0);

  // A damaged model file (cut short) is a clear error; the earlier GGUF and the model stay as they were.
  const std::string whole = qf::test::read(m / "tokenizer.model");
  std::ofstream(m / "tokenizer.model", std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 2);
  const auto damaged = snapshot(m);
  std::tie(code, output) = run_quantforge({"convert", m.string(), "--threads", "1", "--no-resume"});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("tokenizer.model is not a SentencePiece model"));
  CHECK_THAT(output, !Catch::Contains("terminate called"));
  const auto after_failure = snapshot(m);
  for (const auto& [name, digest] : damaged)
    if (name.find("quantize") == std::string::npos) CHECK(after_failure.at(name) == digest);
}

TEST_CASE("a SentencePiece-style tokenizer.json alone gives llama.cpp a SentencePiece vocabulary", "[cli][gguf]") {
  TempDir t("convert_spm_json");
  const fs::path m = llama_random_with(t, "llama-random", {"tokenizer.json", "tokenizer_config.json"});
  auto [code, output] = run_quantforge({"convert", m.string(), "--threads", "1"});
  INFO(output);
  REQUIRE(code == 0);
  // As the converter writes it but for the scores, which it sets to -1000 for every token without a
  // tokenizer.model (llama.cpp then merges left to right, not in BPE order).
  check_against_converter_golden(m / "model-BF16.gguf", "gguf_converter_llama-spm-json.json", {"tokenizer.ggml.scores"});
  const auto c = qf::test::read_gguf((m / "model-BF16.gguf").string());
  CHECK(c.values.at("tokenizer.ggml.model").text == "llama");
  CHECK(c.values.at("tokenizer.ggml.pre").text == "default");
  std::ifstream in(m / "tokenizer.json");
  const nlohmann::json tok = nlohmann::json::parse(in);
  const auto& tokens = c.values.at("tokenizer.ggml.tokens").items;
  const auto& scores = c.values.at("tokenizer.ggml.scores").numbers;
  const auto& types = c.values.at("tokenizer.ggml.token_type").numbers;
  REQUIRE(tokens.size() == 512);
  for (const auto& [text, id] : tok["model"]["vocab"].items()) CHECK(tokens.at(id.get<size_t>()) == text);
  CHECK(types[0] == 3);  // <unk>, <s>, </s>: special added tokens
  CHECK(types[1] == 3);
  CHECK(types[3] == 6);  // <0x00>
  CHECK(tokens[3] == "<0x00>");
  // Every merge forms a token that scores higher than any later merge's result, so llama.cpp's
  // highest-score-first merging follows the BPE ranks.
  std::map<std::string, size_t> id_of;
  for (const auto& [text, id] : tok["model"]["vocab"].items()) id_of[text] = id.get<size_t>();
  double previous = 1;
  for (const auto& mg : tok["model"]["merges"]) {
    std::string formed;
    if (mg.is_string()) {
      const std::string s = mg;
      formed = s.substr(0, s.find(' ')) + s.substr(s.find(' ') + 1);
    } else {
      formed = mg[0].get<std::string>() + mg[1].get<std::string>();
    }
    const double score = scores.at(id_of.at(formed));
    CHECK(score <= previous);
    previous = score;
  }
  CHECK(c.values.at("tokenizer.ggml.add_bos_token").number == 1);
}
