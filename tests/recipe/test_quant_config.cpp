// --quant_config files (AutoAWQ and GPTQ keys, JSON and TOML) and the alias table.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "recipe/quant_config.hpp"
#include "scratch.hpp"

using namespace qf::recipe;
using Catch::Contains;

namespace {
template <typename T>
T get(const std::map<std::string, SourcedValue>& m, const std::string& k) {
  REQUIRE(m.count(k) == 1);
  return std::get<T>(m.at(k).value);
}
bool has_line(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("AutoAWQ quant_config.json", "[recipe][quant_config]") {
  qf_test::ScratchDir dir;
  // The legacy AutoAWQ file (specs/awq.md §7.2), indent=4.
  const auto p = dir.write("quant_config.json",
                           "{\n    \"zero_point\": true,\n    \"q_group_size\": 128,\n    \"w_bit\": 4,\n"
                           "    \"version\": \"GEMM\",\n    \"modules_to_not_convert\": null\n}");
  std::vector<std::string> warnings;
  const auto m = load_quant_config(p, &warnings);
  CHECK(m.size() == 4);
  CHECK(get<bool>(m, "zero_point"));
  CHECK(get<int64_t>(m, "q_group_size") == 128);
  CHECK(get<int64_t>(m, "w_bit") == 4);
  CHECK(get<std::string>(m, "version") == "gemm");  // lower-cased as AutoAWQ's from_dict does
  CHECK(m.at("w_bit").origin == p.generic_string() + ": w_bit");
  CHECK(has_line(warnings, "skipped 'modules_to_not_convert' (null"));
  CHECK(load_quant_config(p).size() == 4);  // warnings are optional
}

TEST_CASE("GPTQ quantize_config.json (AutoGPTQ and GPTQModel)", "[recipe][quant_config]") {
  qf_test::ScratchDir dir;
  const auto ag = dir.write("quantize_config.json", R"({
  "bits": 4, "group_size": 128, "damp_percent": 0.01, "desc_act": true, "static_groups": false,
  "sym": true, "true_sequential": true, "model_name_or_path": null, "model_file_base_name": null,
  "quant_method": "gptq", "checkpoint_format": "gptq"})");
  const auto m = load_quant_config(ag);
  CHECK(get<int64_t>(m, "bits") == 4);
  CHECK(get<int64_t>(m, "group_size") == 128);
  CHECK(get<double>(m, "damp_percent") == 0.01);
  CHECK(get<bool>(m, "desc_act"));
  CHECK_FALSE(get<bool>(m, "static_groups"));
  CHECK(get<bool>(m, "sym"));
  CHECK(get<bool>(m, "true_sequential"));
  CHECK(get<std::string>(m, "checkpoint_format") == "gptq");
  CHECK(m.count("model_name_or_path") == 0);

  // GPTQModel keeps the non-inference settings under "meta" (specs/gptq.md §6.2).
  const auto gm = dir.write("gm.json", R"({ "bits": 4, "group_size": 128, "desc_act": false, "sym": true,
    "lm_head": false, "quant_method": "gptq", "checkpoint_format": "gptq", "pack_dtype": "int32",
    "meta": { "quantizer": ["gptqmodel:5.6.12"], "damp_percent": 0.05, "static_groups": false,
              "true_sequential": true, "sym": false }, "format": "gptq" })");
  std::vector<std::string> warnings;
  const auto g = load_quant_config(gm, &warnings);
  CHECK(get<double>(g, "damp_percent") == 0.05);
  CHECK(g.at("damp_percent").origin == gm.generic_string() + ": meta.damp_percent");
  CHECK(get<bool>(g, "true_sequential"));
  CHECK(get<bool>(g, "sym"));  // top level wins over meta
  CHECK(has_line(warnings, "skipped 'meta.quantizer' (array"));
  CHECK(has_line(warnings, "skipped 'meta.sym' (top-level 'sym' wins)"));

  // An HF config.json: its quantization_config object is read.
  const auto hf = dir.write("config.json", R"({"hidden_size": 64, "quantization_config":
    {"bits": 4, "group_size": 128, "quant_method": "awq", "version": "gemm", "zero_point": true}})");
  const auto h = load_quant_config(hf);
  CHECK(h.count("hidden_size") == 0);
  CHECK(get<bool>(h, "zero_point"));
  CHECK(h.at("bits").origin == hf.generic_string() + ": quantization_config.bits");
}

TEST_CASE("quant_config in TOML, and format detection by content", "[recipe][quant_config]") {
  qf_test::ScratchDir dir;
  const auto t = dir.write("qc.toml", "w_bit = 4\nq_group_size = 64\nzero_point = false\nversion = \"gemm\"\n"
                                      "damp_percent = 0.1\nskip = [1, 2]\n");
  std::vector<std::string> warnings;
  const auto m = load_quant_config(t, &warnings);
  CHECK(get<int64_t>(m, "w_bit") == 4);
  CHECK(get<int64_t>(m, "q_group_size") == 64);
  CHECK_FALSE(get<bool>(m, "zero_point"));
  CHECK(get<double>(m, "damp_percent") == 0.1);
  CHECK(m.at("q_group_size").origin == t.generic_string() + ":2: q_group_size");
  CHECK(has_line(warnings, ":6: skipped 'skip' (array"));

  CHECK(get<int64_t>(load_quant_config(dir.write("noext", "  {\"bits\": 3}")), "bits") == 3);
  CHECK(get<int64_t>(load_quant_config(dir.write("noext2", "bits = 2\n")), "bits") == 2);
}

TEST_CASE("quant_config errors name the file", "[recipe][quant_config]") {
  qf_test::ScratchDir dir;
  const auto bad = dir.write("bad.json", "{\n  \"bits\": 4,\n  \"sym\": tru\n}");
  CHECK_THROWS_WITH(load_quant_config(bad), Contains(bad.generic_string() + ":3:") && Contains("JSON syntax error"));
  const auto badt = dir.write("bad.toml", "bits = 4\nsym = \n");
  CHECK_THROWS_WITH(load_quant_config(badt), Contains(badt.generic_string() + ":2:") && Contains("TOML syntax error"));
  CHECK_THROWS_WITH(load_quant_config(dir.write("arr.json", "[1, 2]")), Contains("must be a JSON object"));
  CHECK_THROWS_WITH(load_quant_config(dir.path() / "missing.json"), Contains("missing.json: cannot open"));
  CHECK_THROWS_WITH(load_quant_config(dir.write("big.json", "{\"bits\": 18446744073709551615}")),
                    Contains("'bits' is out of the integer range"));
}

TEST_CASE("option aliases and translate_option", "[recipe][aliases]") {
  const auto& groups = option_aliases();
  REQUIRE(groups.size() == 3);
  CHECK(groups[0] == std::vector<std::string>{"bits", "w_bit", "wbits"});
  CHECK(groups[1] == std::vector<std::string>{"group_size", "q_group_size"});
  CHECK(groups[2] == std::vector<std::string>{"zero_point"});

  const std::set<std::string> awq = {"w_bit", "q_group_size", "zero_point", "version"};
  const std::set<std::string> gptq = {"bits", "group_size", "sym", "desc_act", "damp_percent"};
  using P = std::pair<std::string, OptionValue>;

  CHECK(translate_option("bits", int64_t{4}, awq) == P{"w_bit", int64_t{4}});
  CHECK(translate_option("wbits", int64_t{3}, awq) == P{"w_bit", int64_t{3}});
  CHECK(translate_option("w_bit", int64_t{8}, gptq) == P{"bits", int64_t{8}});
  CHECK(translate_option("group_size", int64_t{64}, awq) == P{"q_group_size", int64_t{64}});
  CHECK(translate_option("q_group_size", int64_t{32}, gptq) == P{"group_size", int64_t{32}});
  CHECK(translate_option("version", std::string("gemm"), awq) == P{"version", std::string("gemm")});
  // zero_point <-> sym by negation, only when the other one is what the plugin declares.
  CHECK(translate_option("zero_point", true, gptq) == P{"sym", false});
  CHECK(translate_option("zero_point", false, gptq) == P{"sym", true});
  CHECK(translate_option("sym", true, awq) == P{"zero_point", false});
  CHECK(translate_option("sym", false, awq) == P{"zero_point", true});
  CHECK(translate_option("zero_point", true, awq) == P{"zero_point", true});
  const std::set<std::string> both = {"zero_point", "sym"};
  CHECK(translate_option("sym", true, both) == P{"sym", true});
  CHECK_THROWS_WITH(translate_option("zero_point", int64_t{1}, gptq), Contains("must be a boolean"));
  // Nothing declared matches.
  CHECK_FALSE(translate_option("desc_act", true, awq).has_value());
  CHECK_FALSE(translate_option("bits", int64_t{4}, {"damp_percent"}).has_value());
  CHECK_FALSE(translate_option("quant_method", std::string("gptq"), gptq).has_value());

  std::map<std::string, SourcedValue> opts = {{"w_bit", {int64_t{4}, "x"}}};
  REQUIRE(find_option(opts, "bits") != nullptr);
  CHECK(find_option(opts, "wbits") == &opts.at("w_bit"));
  CHECK(find_option(opts, "group_size") == nullptr);
}
