// GGUF output: block encodings against llama.cpp's own quantizer, the container against a reader
// written from the format description, and whole runs of the pipeline (names, metadata, grids).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <nlohmann/json.hpp>

#include "gguf_special_tokens.hpp"
#include "gguf_vocab.hpp"
#include "gguf_blocks.hpp"
#include "gguf_file.hpp"
#include "gguf_test_reader.hpp"
#include "pipeline/layout.hpp"
#include "pipeline/quantize.hpp"
#include "quantforge/packing.hpp"
#include "recipe/recipe.hpp"
#include "safetensors/reader.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

nlohmann::json goldens() {
  std::ifstream in(std::string(QF_SOURCE_DIR) + "/tests/data/goldens/gguf_blocks.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

std::string hex(const std::vector<uint8_t>& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t v : b) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

qf::gguf::TensorType type_named(const std::string& n) {
  if (n == "Q4_0") return qf::gguf::TensorType::Q4_0;
  if (n == "Q4_1") return qf::gguf::TensorType::Q4_1;
  return qf::gguf::TensorType::Q8_0;
}

}  // namespace

TEST_CASE("GGUF blocks of a grid equal llama.cpp's quantizer output for the grid's values", "[gguf][unit]") {
  const nlohmann::json all = goldens();  // the loop must not iterate into a destroyed temporary
  for (const auto& c : all["grids"]) {
    INFO(c["name"].get<std::string>());
    qf::sdk::grid::LinearGrid g;
    g.prefix = c["name"];
    g.bits = c["bits"];
    g.out = c["rows"];
    g.in = c["cols"];
    const int64_t group = c["group_size"];
    g.groups = g.in / group;
    for (int v : c["codes"]) g.codes.push_back(static_cast<uint8_t>(v));
    g.scales = c["scales_f16_bits"].get<std::vector<uint16_t>>();
    g.zeros = c["zeros"].get<std::vector<int32_t>>();
    for (int64_t i = 0; i < g.in; ++i) g.g_idx.push_back(static_cast<int32_t>(i / group));
    const qf::gguf::TensorType t = type_named(c["type"]);
    CHECK(qf::gguf::block_type_for(g, "") == t);
    qf::gguf::EncodeReport report;
    const auto bytes = qf::gguf::encode_grid(g, t, [](int64_t r) { return r; }, &report);
    CHECK(hex(bytes) == c["bytes_hex"].get<std::string>());
    CHECK(report.worst_m_error == 0.0);  // these zeros and scales make m exact in fp16
  }
}

TEST_CASE("float rows as Q8_0 equal llama.cpp's reference quantizer", "[gguf][unit]") {
  const auto c = goldens()["q8_0_rows"];
  const std::vector<float> x = c["values"].get<std::vector<float>>();
  const int64_t rows = c["rows"], cols = c["cols"];
  std::vector<uint8_t> out(static_cast<size_t>(rows * cols / 32 * 34));
  for (int64_t r = 0; r < rows; ++r) qf::gguf::quantize_q8_0(x.data() + r * cols, cols, out.data() + r * cols / 32 * 34);
  CHECK(hex(out) == c["bytes_hex"].get<std::string>());
}

TEST_CASE("float rows as Q6_K equal ggml's C quantizer, zero super-blocks and sub-blocks included", "[gguf][unit]") {
  const auto c = goldens()["q6_k_rows"];
  const std::vector<float> x = c["values"].get<std::vector<float>>();
  const int64_t rows = c["rows"], cols = c["cols"];
  const uint64_t row_bytes = qf::gguf::tensor_bytes(qf::gguf::TensorType::Q6_K, cols);
  REQUIRE(row_bytes == static_cast<uint64_t>(cols / 256 * 210));
  std::vector<uint8_t> out(static_cast<size_t>(rows) * row_bytes);
  for (int64_t r = 0; r < rows; ++r) qf::gguf::quantize_q6_k(x.data() + r * cols, cols, out.data() + r * row_bytes);
  const std::string want = c["bytes_hex"].get<std::string>();
  REQUIRE(want.size() == 2 * out.size());
  for (int64_t r = 0; r < rows; ++r) {  // one row at a time, so a miss says where
    INFO("row " << r);
    const size_t n = 2 * row_bytes;
    CHECK(hex(out).substr(r * n, n) == want.substr(r * n, n));
  }
}

TEST_CASE("add_bos/eos/sep_token follow the post-processor as llama.cpp's converter reads it", "[gguf][unit]") {
  using nlohmann::json;
  const auto tokens = [](const json& post, const json& cfg) {
    return qf::gguf::special_tokens({{"post_processor", post}}, cfg, json::object(), 100).add;
  };
  const json special_s = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
  const json seq_a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, seq_b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
  // tiny-llama's: "<s> A" and "<s> A <s> B" -> the converter wrote add_bos_token true, add_sep_token false.
  const json llama = {{"type", "TemplateProcessing"}, {"single", {special_s, seq_a}}, {"pair", {special_s, seq_a, special_s, seq_b}}};
  const json cfg = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  CHECK(tokens(llama, cfg) == std::map<std::string, bool>{{"bos", true}, {"sep", false}});
  // tokenizer_config.json's flags override the template.
  CHECK(tokens(llama, {{"bos_token", "<s>"}, {"add_bos_token", false}, {"add_eos_token", true}}) ==
        std::map<std::string, bool>{{"bos", false}, {"eos", true}, {"sep", false}});
  // Inside a Sequence of processors (Llama 3: ByteLevel then TemplateProcessing "<|begin_of_text|> A").
  const json begin = {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}};
  const json llama3 = {{"type", "Sequence"},
                       {"processors", {{{"type", "ByteLevel"}}, {{"type", "TemplateProcessing"}, {"single", {begin, seq_a}}}}}};
  CHECK(tokens(llama3, {{"bos_token", "<|begin_of_text|>"}}) == std::map<std::string, bool>{{"bos", true}});
  // "A </s>": a trailing special token is always added (the converter makes it the EOS).
  const json special_e = {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}};
  CHECK(tokens({{"type", "TemplateProcessing"}, {"single", {seq_a, special_e}}}, cfg) == std::map<std::string, bool>{{"eos", true}});
  // "A </s> B": the separator is the EOS -> add_sep_token.
  CHECK(tokens({{"type", "TemplateProcessing"}, {"single", {special_s, seq_a}}, {"pair", {special_s, seq_a, special_e, seq_b}}}, cfg) ==
        std::map<std::string, bool>{{"bos", true}, {"sep", true}});
  CHECK(tokens({{"type", "RobertaProcessing"}}, cfg) == std::map<std::string, bool>{{"bos", true}, {"eos", true}, {"sep", true}});
  CHECK(tokens({{"type", "ByteLevel"}}, cfg).empty());  // Qwen2: nothing added, nothing written
  CHECK(tokens(json(), cfg).empty());
}

TEST_CASE("special token ids as llama.cpp's converter resolves them, a template's trailing token becoming the EOS",
          "[gguf][unit]") {
  using nlohmann::json;
  using Ids = std::vector<std::pair<std::string, uint32_t>>;
  const json added = json::array({{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                                  {{"id", 1}, {"content", "<s>"}, {"special", true}},
                                  {{"id", 2}, {"content", "</s>"}, {"special", true}},
                                  {{"id", 7}, {"content", "<|im_end|>"}, {"special", true}}});
  const json seq_a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
  const json bos_a = {{"type", "TemplateProcessing"},
                      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, seq_a}}};
  const json cfg = {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", {{"content", "<unk>"}}}};
  // Ids from the configured texts (a string or {"content"}), looked up among the added tokens; unset
  // kinds from config.json; config.json never overrides a configured one.
  auto s = qf::gguf::special_tokens({{"added_tokens", added}, {"post_processor", bos_a}}, cfg,
                                    {{"bos_token_id", 5}, {"pad_token_id", 3}, {"eos_token_id", json::array({2, 7})}}, 100);
  CHECK(s.ids == Ids{{"bos", 1}, {"eos", 2}, {"unk", 0}, {"pad", 3}});
  CHECK(s.add == std::map<std::string, bool>{{"bos", true}});
  // "A <|im_end|>": the trailing token ends every encoded text, so it is the EOS; the configured </s>
  // becomes the end-of-turn token.
  const json trailing = {{"type", "TemplateProcessing"},
                         {"single", {seq_a, {{"SpecialToken", {{"id", "<|im_end|>"}, {"type_id", 0}}}}}}};
  s = qf::gguf::special_tokens({{"added_tokens", added}, {"post_processor", trailing}}, cfg, json::object(), 100);
  CHECK(s.ids == Ids{{"bos", 1}, {"eos", 7}, {"unk", 0}, {"eot", 2}});
  CHECK(s.add == std::map<std::string, bool>{{"eos", true}});
  // Ids past the vocabulary are dropped; negative or non-integer config ids are ignored.
  s = qf::gguf::special_tokens({{"added_tokens", added}}, cfg, {{"pad_token_id", -1}, {"mask_token_id", "x"}}, 2);
  CHECK(s.ids == Ids{{"bos", 1}, {"unk", 0}});
  // Without a tokenizer_config.json only config.json names ids (text_config's too).
  s = qf::gguf::special_tokens({{"added_tokens", added}, {"post_processor", bos_a}}, json::object(),
                               {{"text_config", {{"eos_token_id", 2}}}}, 100);
  CHECK(s.ids == Ids{{"eos", 2}});
  CHECK(s.add == std::map<std::string, bool>{{"bos", true}});
}

namespace {

// llama.cpp's SentencePiece tokenizer (llm_tokenizer_spm) as its source describes it, over a GGUF
// vocabulary: a space prefix, spaces as "▁", UTF-8 characters as symbols, then repeatedly merge the
// adjacent pair whose concatenation is a token with the highest score (ties: leftmost); a final
// symbol that is no token is split back along its merges, and characters with no token become
// byte tokens.
class SpmTokenizer {
 public:
  explicit SpmTokenizer(const qf::gguf::Vocabulary& v) : v_(v) {
    for (size_t i = 0; i < v.tokens.size(); ++i) id_.emplace(v.tokens[i], static_cast<int32_t>(i));
  }

  std::vector<int32_t> encode(const std::string& raw) {
    std::vector<int32_t> out;
    if (raw.empty()) return out;
    std::string text;
    for (char c : " " + raw) text += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    symbols_.clear();
    rev_merge_.clear();
    for (size_t at = 0; at < text.size();) {
      const auto lead = static_cast<unsigned char>(text[at]);
      const size_t n = std::min(text.size() - at, size_t(lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4));
      symbols_.push_back({at, n, static_cast<int>(symbols_.size()) - 1, -1});
      at += n;
    }
    for (size_t i = 0; i + 1 < symbols_.size(); ++i) symbols_[i].next = static_cast<int>(i) + 1;
    text_ = text;
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) add_bigram(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[static_cast<size_t>(b.left)];
      Symbol& r = symbols_[static_cast<size_t>(b.right)];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[static_cast<size_t>(r.next)].prev = b.left;
      add_bigram(l.prev, b.left);
      add_bigram(b.left, l.next);
    }
    for (int i = 0; i != -1; i = symbols_[static_cast<size_t>(i)].next) resegment(symbols_[static_cast<size_t>(i)], out);
    return out;
  }

 private:
  struct Symbol {
    size_t at, n;
    int prev, next;
  };
  struct Bigram {
    int left, right;
    float score;
    size_t size;
    bool operator<(const Bigram& o) const { return score < o.score || (score == o.score && left > o.left); }
  };

  void add_bigram(int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[static_cast<size_t>(left)];
    const std::string text = text_.substr(l.at, l.n + symbols_[static_cast<size_t>(right)].n);
    const auto it = id_.find(text);
    if (it == id_.end()) return;
    queue_.push({left, right, v_.scores[static_cast<size_t>(it->second)], text.size()});
    rev_merge_[text] = {left, right};
  }

  void resegment(const Symbol& s, std::vector<int32_t>& out) {
    const std::string text = text_.substr(s.at, s.n);
    if (const auto it = id_.find(text); it != id_.end()) {
      out.push_back(it->second);
      return;
    }
    if (const auto m = rev_merge_.find(text); m != rev_merge_.end()) {
      resegment(symbols_[static_cast<size_t>(m->second.first)], out);
      resegment(symbols_[static_cast<size_t>(m->second.second)], out);
      return;
    }
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char c : text) out.push_back(id_.at(std::string("<0x") + hex[c >> 4] + hex[c & 15] + ">"));
  }

  const qf::gguf::Vocabulary& v_;
  std::map<std::string, int32_t> id_;
  std::string text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram> queue_;
  std::map<std::string, std::pair<int, int>> rev_merge_;
};

}  // namespace

TEST_CASE("a SentencePiece-style tokenizer.json's scores make llama.cpp's tokenizer give transformers' ids",
          "[gguf][unit]") {
  // Goldens: transformers' ids for the tricky strings (tests/data/tokenizers/goldens.json). Strings that
  // spell a special token ("<s>") are left out: llama.cpp splits those off before this tokenizer runs.
  const std::string data = QF_TEST_DATA_DIR;
  std::ifstream gin(data + "/tokenizers/goldens.json"), tin(data + "/tokenizers/sp-llama2-legacy/tokenizer.json");
  const nlohmann::json goldens = nlohmann::json::parse(gin), tok = nlohmann::json::parse(tin);
  REQUIRE(qf::gguf::is_sentencepiece_bpe(tok));
  const qf::gguf::Vocabulary v = qf::gguf::sentencepiece_vocab_from_json(tok, 0);
  CHECK(v.model == "llama");
  REQUIRE(v.tokens.size() == 2048);
  CHECK(v.types[0] == qf::gguf::kControl);  // <unk>: a special added token, as the converter types it
  CHECK(v.types[3] == qf::gguf::kByte);
  SpmTokenizer spm(v);
  const auto& strings = goldens["strings"];
  const auto& cases = goldens["tokenizers"]["sp-llama2-legacy"]["cases"];
  int compared = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::string s = strings[i];
    if (s.find("<s>") != std::string::npos || s.find("</s>") != std::string::npos || s.find("<unk>") != std::string::npos)
      continue;
    INFO("string " << i << ": " << s);
    CHECK(spm.encode(s) == cases[i]["ids_no_special"].get<std::vector<int32_t>>());
    ++compared;
  }
  CHECK(compared > 70);
}

TEST_CASE("grids no GGUF block carries exactly are refused, saying what to change", "[gguf][unit]") {
  qf::sdk::grid::LinearGrid g;
  g.prefix = "model.layers.0.mlp.up_proj";
  g.bits = 4;
  g.out = 1;
  g.in = 64;
  g.groups = 4;  // groups of 16
  g.codes.assign(64, 1);
  g.scales.assign(4, 0x3c00);
  g.zeros.assign(4, 8);
  for (int i = 0; i < 64; ++i) g.g_idx.push_back(i / 16);
  CHECK_THROWS_WITH(qf::gguf::block_type_for(g, ""), Catch::Contains("group size 16 is not a multiple of 32"));
  g.groups = 2;
  g.scales.assign(2, 0x3c00);
  g.zeros.assign(2, 8);
  for (int i = 0; i < 64; ++i) g.g_idx[static_cast<size_t>(i)] = i % 2;  // act-order
  CHECK_THROWS_WITH(qf::gguf::block_type_for(g, "desc_act = false"), Catch::Contains("desc_act = false"));
  g.bits = 8;
  g.codes.assign(64, 1);
  for (int i = 0; i < 64; ++i) g.g_idx[static_cast<size_t>(i)] = i / 32;
  g.zeros = {100, 128};
  CHECK_THROWS_WITH(qf::gguf::block_type_for(g, ""), Catch::Contains("sym = true"));
}

TEST_CASE("GGUF container: every value type and aligned tensor data read back", "[gguf][unit]") {
  const qf::test::TempDir dir("gguf_container");
  const std::string path = (dir.path() / "t.gguf").string();
  using qf::gguf::KeyValue;
  const std::vector<KeyValue> kv{{"general.architecture", std::string("llama")},
                                 {"a.u32", uint32_t{7}},
                                 {"a.i32", int32_t{-3}},
                                 {"a.f32", 0.5f},
                                 {"a.bool", true},
                                 {"a.u64", uint64_t{1} << 40},
                                 {"a.strings", qf::gguf::StringArray{"x", "", "\xC4\xA0t"}},
                                 {"a.ints", std::vector<int32_t>{1, -2}},
                                 {"a.floats", std::vector<float>{1.5f}}};
  const std::vector<qf::gguf::TensorInfo> tensors{{"one", {3}, qf::gguf::TensorType::F32, 12},
                                                  {"two", {32, 2}, qf::gguf::TensorType::Q8_0, 68}};
  qf::gguf::write_file(path, kv, tensors, [](size_t i, const qf::gguf::DataSink& sink) {
    std::vector<uint8_t> data(i == 0 ? 12 : 68, static_cast<uint8_t>(0xA0 + i));
    sink(data.data(), data.size());
  });
  const auto c = qf::test::read_gguf(path);
  REQUIRE(c.keys.size() == kv.size());
  CHECK(c.keys.front() == "general.architecture");
  CHECK(c.values.at("a.u32").type == 4);
  CHECK(c.values.at("a.u32").number == 7);
  CHECK(c.values.at("a.i32").number == -3);
  CHECK(c.values.at("a.f32").number == 0.5);
  CHECK(c.values.at("a.bool").type == 7);
  CHECK(c.values.at("a.u64").number == static_cast<double>(uint64_t{1} << 40));
  CHECK(c.values.at("a.strings").items == std::vector<std::string>{"x", "", "\xC4\xA0t"});
  CHECK(c.values.at("a.ints").numbers == std::vector<double>{1, -2});
  CHECK(c.tensors.at("one").offset == 0);
  CHECK(c.tensors.at("two").offset == 32);  // 12 bytes padded to the 32-byte alignment
  CHECK(c.tensors.at("two").ne == std::vector<uint64_t>{32, 2});
  CHECK(c.tensors.at("two").type == 8);
  CHECK(c.data_start % 32 == 0);
  CHECK(c.data("two")[0] == 0xA1);
  CHECK(c.data("two")[67] == 0xA1);
  CHECK(c.bytes.size() == c.data_start + 32 + 68 + 28);  // the last tensor padded too
}

namespace {

struct Run {
  std::string error;
  fs::path out;
};

Run quantize(const fs::path& model, const fs::path& out, const std::string& options, const std::string& format) {
  qf::host::PluginRegistry registry;
  registry.load_directories({QF_PLUGIN_BUILD_DIR});
  qf::pipeline::QuantizeRequest req;
  req.model_dir = model;
  req.output = out;
  req.recipe = qf::recipe::parse_recipe("[method]\nplugin = \"rtn\"\n[method.options]\n" + options +
                                            "\n[[formats]]\nplugin = \"safetensors_writer\"\n[[formats]]\nplugin = "
                                            "\"index_writer\"\n",
                                        "gguf-test.toml");
  qf::recipe::apply_output_format(req.recipe, format);
  Run r;
  r.out = out;
  try {
    qf::pipeline::quantize(req, registry);
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

// llama's q/k rows go to llama.cpp's order: output row h*D + 2j + t is source row h*D + t*D/2 + j.
int64_t llama_source_row(int64_t r, int64_t head_dim) {
  const int64_t h = r / head_dim, w = r % head_dim;
  return h * head_dim + (w % 2) * (head_dim / 2) + w / 2;
}

}  // namespace

TEST_CASE("RTN 4-bit symmetric to GGUF: Q4_0 blocks hold the very codes and scales of the GPTQ checkpoint",
          "[gguf][model]") {
  const qf::test::TempDir tmp("gguf_rtn");
  const fs::path model = std::string(QF_SOURCE_DIR) + "/tests/data/models/tiny-llama";
  const std::string options = "bits = 4\ngroup_size = 128\nsym = true";
  const Run st = quantize(model, tmp.path() / "st", options, "safetensors");
  REQUIRE(st.error.empty());
  const Run gg = quantize(model, tmp.path() / "gguf", options, "gguf");
  REQUIRE(gg.error.empty());
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(gg.out)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{".quantforge-manifest.json", "model-Q4_0.gguf"});  // one file, nothing beside it

  const auto c = qf::test::read_gguf((gg.out / "model-Q4_0.gguf").string());
  CHECK(c.values.at("general.architecture").text == "llama");
  CHECK(c.values.at("general.file_type").number == 2);
  CHECK(c.values.at("general.quantization_version").number == 2);
  CHECK(c.values.at("llama.block_count").number == 4);
  CHECK(c.values.at("llama.embedding_length").number == 256);
  CHECK(c.values.at("llama.feed_forward_length").number == 768);
  CHECK(c.values.at("llama.attention.head_count").number == 4);
  CHECK(c.values.at("llama.attention.head_count_kv").number == 2);
  CHECK(c.values.at("llama.rope.dimension_count").number == 64);
  CHECK(c.values.at("llama.rope.freq_base").number == 10000.0);
  CHECK(c.values.at("llama.attention.layer_norm_rms_epsilon").type == 6);
  CHECK(c.values.at("tokenizer.ggml.model").text == "gpt2");
  CHECK(c.values.at("tokenizer.ggml.pre").text == "gpt-2");  // ByteLevel's own GPT-2 split, an unlisted vocabulary
  CHECK(c.values.at("tokenizer.ggml.tokens").items.size() == 4096);
  CHECK(c.values.at("tokenizer.ggml.tokens").items[1] == "<s>");
  CHECK(c.values.at("tokenizer.ggml.token_type").numbers[1] == 3);   // special: control
  CHECK(c.values.at("tokenizer.ggml.token_type").numbers[300] == 1);  // normal
  CHECK(c.values.at("tokenizer.ggml.bos_token_id").number == 1);
  CHECK(c.values.at("tokenizer.ggml.eos_token_id").number == 2);
  CHECK(c.tensor_names.size() == 2 + 1 + 4 * 9);
  CHECK(c.tensor_names.front() == "token_embd.weight");
  CHECK(c.tensors.at("token_embd.weight").type == 30);  // bf16 as stored
  CHECK(c.tensors.at("blk.0.attn_norm.weight").type == 0);
  CHECK(c.tensors.at("output.weight").ne == std::vector<uint64_t>{256, 4096});

  const auto ckpt = qf::st::Checkpoint::open(st.out);
  const auto ints = [&](const std::string& name) {
    const auto v = ckpt.get(name);
    std::vector<int32_t> out(v.info->nbytes() / 4);
    std::memcpy(out.data(), v.data, v.info->nbytes());
    return out;
  };
  const std::pair<const char*, const char*> linears[] = {
      {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"}, {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"}, {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"}};
  for (int layer = 0; layer < 4; ++layer)
    for (const auto& [hf, gg_name] : linears) {
      const std::string p = "model.layers." + std::to_string(layer) + "." + hf;
      const std::string name = "blk." + std::to_string(layer) + "." + gg_name + ".weight";
      INFO(name);
      const auto& t = c.tensors.at(name);
      REQUIRE(t.type == 2);
      const int64_t in = static_cast<int64_t>(t.ne[0]), out = static_cast<int64_t>(t.ne[1]);
      const auto codes = qf::pack::gptq_unpack_qweight(ints(p + ".qweight"), out, in, 4);
      const auto sv = ckpt.get(p + ".scales");
      const auto* scales = reinterpret_cast<const uint16_t*>(sv.data);  // [groups, out]
      const bool permuted = hf == std::string("self_attn.q_proj") || hf == std::string("self_attn.k_proj");
      const uint8_t* blocks = c.data(name);
      int64_t mismatches = 0;
      for (int64_t r = 0; r < out; ++r) {
        const int64_t o = permuted ? llama_source_row(r, 64) : r;
        for (int64_t b = 0; b < in / 32; ++b) {
          const uint8_t* blk = blocks + (r * (in / 32) + b) * 18;
          uint16_t d;
          std::memcpy(&d, blk, 2);
          mismatches += d != scales[(b * 32 / 128) * out + o];
          for (int j = 0; j < 32; ++j) {
            const int q = j < 16 ? (blk[2 + j] & 15) : (blk[2 + j - 16] >> 4);
            mismatches += q != codes[static_cast<size_t>(o * in + b * 32 + j)];
          }
        }
      }
      CHECK(mismatches == 0);
    }
}

TEST_CASE("GGUF output refuses what it cannot carry, naming the fix, and writes nothing", "[gguf][model]") {
  const qf::test::TempDir tmp("gguf_refuse");
  const fs::path model = std::string(QF_SOURCE_DIR) + "/tests/data/models/tiny-llama";
  const Run g16 = quantize(model, tmp.path() / "g16", "bits = 4\ngroup_size = 16\nsym = true", "gguf");
  CHECK_THAT(g16.error, Catch::Contains("group size 16 is not a multiple of 32"));
  CHECK_FALSE(fs::exists(g16.out / "model-Q4_0.gguf"));
  const fs::path opt = std::string(QF_SOURCE_DIR) + "/tests/data/models/opt-random";
  const Run o = quantize(opt, tmp.path() / "opt", "bits = 4\ngroup_size = 32\nsym = true", "gguf");
  CHECK_THAT(o.error, Catch::Contains("model_type \"opt\" is not supported"));
  CHECK_FALSE(fs::exists(o.out / "model-Q4_0.gguf"));
}

TEST_CASE("--output keeps copying model files for in-place recipes; --format gguf copies none", "[gguf][unit]") {
  using qf::recipe::load_recipe_file;
  const fs::path configs = fs::path(QF_SOURCE_DIR) / "configs";
  const fs::path model = "/nonexistent-model", out = "/nonexistent-out";
  qf::recipe::Recipe awq = load_recipe_file(configs / "awq.toml");
  CHECK(qf::pipeline::resolve_layout(awq.layout, model, out, 4, 128).copy_model_files);
  CHECK(qf::pipeline::resolve_layout(load_recipe_file(configs / "gptq.toml").layout, model, std::nullopt, 8, 128)
            .copy_model_files);
  qf::recipe::apply_output_format(awq, "gguf");
  CHECK_FALSE(qf::pipeline::resolve_layout(awq.layout, model, out, 4, 128).copy_model_files);
  CHECK_FALSE(qf::pipeline::resolve_layout(awq.layout, model, std::nullopt, 4, 128).copy_model_files);
}
