// Which files eval reads (plain folder, in-place variant, index path) and its error messages:
// unknown variant, packed weights without a quantization config, missing config.json, a parent
// folder that only holds output subfolders, datasets that cannot be found.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "eval/eval_text.hpp"
#include "eval/model_open.hpp"
#include "fake_quant_model.hpp"
#include "support/temp_dir.hpp"
#include "safetensors/writer.hpp"

namespace fs = std::filesystem;
using qf::eval::open_model_for_eval;

namespace {

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

void write_one_tensor(const fs::path& file, const std::string& name) {
  const std::vector<int32_t> data(8, 0);
  qf::st::write_file(file, {{name, qf::st::DType::I32, {1, 8}, data.data(), data.size() * 4}});
}

}  // namespace

TEST_CASE("in-place variants: --variant, the index path, and the plain model beside them", "[eval][open]") {
  const qf::test::TempDir tmp("eval_open_awq");
  const fs::path dir = tmp / "eval_open_awq";
  qf::test::write_fake_quant_model(dir, 4, false, qf::test::Packing::AwqGemm);

  const auto plain = open_model_for_eval(dir);
  CHECK_FALSE(plain.scheme);
  CHECK(plain.variant.empty());
  CHECK(plain.variants == std::vector<std::string>{"AWQ"});
  CHECK(plain.weights_description == "model.safetensors.index.json (2 files)");

  const auto v = open_model_for_eval(dir, "AWQ");
  REQUIRE(v.scheme);
  CHECK(v.scheme->method == qf::eval::QuantScheme::Method::Awq);
  CHECK_THAT(v.scheme->source, Catch::Contains("quant_config-AWQ.json"));
  CHECK(v.packed_linears == 28);
  CHECK(v.tokenizer_dir == dir);
  CHECK(v.label() == dir.string() + " [variant AWQ]");

  const auto by_path = open_model_for_eval(dir / "model-AWQ.safetensors.index.json");
  CHECK(by_path.variant == "AWQ");
  REQUIRE(by_path.scheme);
  // The dequantized weight is the same either way, and differs from the fp one.
  const std::string q = "model.layers.1.mlp.down_proj.weight";
  CHECK(by_path.weights->borrow(q).equal(v.weights->borrow(q)));
  CHECK(v.weights->borrow(q).sizes() == plain.weights->borrow(q).sizes());
  CHECK_FALSE(v.weights->borrow(q).equal(plain.weights->borrow(q).to(at::kFloat)));
  // Non-quantized tensors pass through as stored.
  CHECK(v.weights->borrow("model.norm.weight").scalar_type() == at::kBFloat16);

  CHECK_THROWS_WITH(open_model_for_eval(dir, "GPTQ"),
                    Catch::Contains("variant \"GPTQ\" not found") && Catch::Contains("model-GPTQ.safetensors.index.json") &&
                        Catch::Contains("variants here: AWQ"));
  CHECK_THROWS_WITH(open_model_for_eval(dir / "model-AWQ.safetensors.index.json", "XYZ"),
                    Catch::Contains("contradicts"));
  CHECK_THROWS_WITH(open_model_for_eval(qf::test::tiny_llama_dir(), "AWQ"),
                    Catch::Contains("not found") && Catch::Contains("holds no in-place variants"));
}

TEST_CASE("packed weights without a quantization config are refused, naming where we looked", "[eval][open]") {
  const qf::test::TempDir tmp("eval_open_noconfig");
  const fs::path dir = tmp / "eval_open_noconfig";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(qf::test::tiny_llama_dir() / "config.json", dir / "config.json");
  write_one_tensor(dir / "model.safetensors", "model.layers.0.self_attn.q_proj.qweight");
  CHECK_THROWS_WITH(open_model_for_eval(dir),
                    Catch::Contains("packed weights") && Catch::Contains("q_proj.qweight") &&
                        Catch::Contains("no quantization config") && Catch::Contains("quantize_config.json") &&
                        Catch::Contains("quantization_config"));
  // An unsupported method is named.
  write_text(dir / "quantize_config.json", R"({"quant_method": "bitsandbytes"})");
  CHECK_THROWS_WITH(open_model_for_eval(dir), Catch::Contains("bitsandbytes") && Catch::Contains("not supported"));
}

TEST_CASE("folders without a model: no config.json, only output subfolders, nothing there", "[eval][open]") {
  const qf::test::TempDir tmp("eval_open_layouts");
  const fs::path dir = tmp / "eval_open_layouts";
  fs::remove_all(dir);
  fs::create_directories(dir / "GPTQ_8bit_CPU");
  write_text(dir / "GPTQ_8bit_CPU" / "config.json", "{}");
  CHECK_THROWS_WITH(open_model_for_eval(dir), Catch::Contains("GPTQ_8bit_CPU"));
  write_one_tensor(dir / "model.safetensors", "x.weight");
  CHECK_THROWS_WITH(open_model_for_eval(dir), Catch::Contains("no config.json"));
  CHECK_THROWS_WITH(open_model_for_eval(dir / "nowhere"), Catch::Contains("model not found"));
}

TEST_CASE("evaluation datasets: named ones are found or the error lists every place looked", "[eval][data]") {
  const qf::test::TempDir tmp("eval_empty_data");
  const fs::path empty = tmp / "eval_empty_data";
  fs::create_directories(empty);
  ::unsetenv("QUANTFORGE_DATA_DIR");
  qf::eval::EvalTextSpec spec;
  spec.dataset = "wikitext2";
  spec.dataset_path = empty.string();
  CHECK_THROWS_WITH(qf::eval::load_eval_text(spec),
                    Catch::Contains("\"wikitext2\" not found") && Catch::Contains((empty / "wiki.test.raw").string()) &&
                        Catch::Contains((empty / "wikitext-2-raw" / "wiki.test.raw").string()) &&
                        Catch::Contains("--dataset-path"));
  // Found under --dataset-path when it is there.
  write_text(empty / "wiki.test.raw", " = Title = \n");
  const auto wiki = qf::eval::load_eval_text(spec);
  CHECK(wiki.text == " = Title = \n");
  CHECK_THAT(wiki.description, Catch::Contains("wikitext2 test split"));
  fs::remove(empty / "wiki.test.raw");

  spec.dataset = "bundled";
  // A test executable is not beside share/quantforge/data: point it at the source tree's copy.
  spec.extra_search_dirs = {fs::path(QF_SOURCE_DIR) / "data"};
  const auto bundled = qf::eval::load_eval_text(spec);
  CHECK(bundled.text.size() > 100000);
  CHECK_THAT(bundled.description, Catch::Contains("bundled public-domain text"));

  spec.dataset = (qf::test::kData / "text" / "heldout.txt").string();
  CHECK(qf::eval::load_eval_text(spec).text.size() == 307687);
  spec.dataset = "nosuch.txt";
  CHECK_THROWS_WITH(qf::eval::load_eval_text(spec), Catch::Contains("neither a known name"));
  spec.dataset = (empty / "records.jsonl").string();
  write_text(spec.dataset, "{\"text\": \"x\"}\n");
  CHECK_THROWS_WITH(qf::eval::load_eval_text(spec), Catch::Contains("plain text"));
}
