// --quant_config files (AutoAWQ and GPTQ keys, JSON and TOML) and the alias table.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "recipe/closest_name.hpp"
#include "recipe/quant_config.hpp"
#include "support/temp_dir.hpp"

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
  qf::test::TempDir dir("recipe");
  // The legacy AutoAWQ file (docs/formats.md#quantization-config-keys), indent=4.
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
  qf::test::TempDir dir("recipe");
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

  // GPTQModel keeps the non-inference settings under "meta" (docs/gptq.md#config-files).
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
  qf::test::TempDir dir("recipe");
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
  qf::test::TempDir dir("recipe");
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

// ---- apply_quant_config: every key is used, ignored as another tool's setting, or an error ----

namespace {
// The options the bundled method plugins declare.
const std::set<std::string> kAwq = {"w_bit",      "q_group_size", "zero_point",        "version",
                                    "duo_scaling", "n_grid",       "apply_clip",        "max_calib_samples",
                                    "max_calib_seq_len", "modules_to_not_convert"};
const std::set<std::string> kGptq = {"bits",          "group_size",      "sym",
                                     "desc_act",      "damp_percent",    "static_groups",
                                     "true_sequential", "damp_auto_increment", "rtn_fallback"};
const std::set<std::string> kRtn = {"bits", "group_size", "sym", "checkpoint_format"};

Recipe recipe_for(const std::string& plugin) {
  return parse_recipe("[method]\nplugin = \"" + plugin + "\"\n[method.options]\ngroup_size = 128\n"
                      "[[formats]]\nplugin = \"w\"\n",
                      "r.toml");
}
using Strings = std::vector<std::string>;
}  // namespace

TEST_CASE("a misspelt quant_config key is an error naming it, the closest key and the method's keys",
          "[recipe][quant_config]") {
  qf::test::TempDir dir("recipe");
  const auto p = dir.write("qc.json", R"({"bits": 4, "group_sise": 64, "quant_method": "gptq"})");
  Recipe r = recipe_for("gptq");
  const Recipe before = r;
  CHECK_THROWS_WITH(apply_quant_config(r, read_quant_config(p), kGptq),
                    p.generic_string() + ": unknown quant_config key 'group_sise' (did you mean 'group_size'?); "
                                         "method 'gptq' reads bits, damp_auto_increment, damp_percent, desc_act, "
                                         "group_size, rtn_fallback, static_groups, sym, true_sequential (also as "
                                         "w_bit, wbits, q_group_size, zero_point). Fix or remove it (keys other "
                                         "AWQ/GPTQ tools write are accepted and ignored)");
  CHECK(r == before);  // nothing applied, not even bits
  CHECK(std::get<int64_t>(r.method.options.at("group_size").value) == 128);

  // Every unknown key is named, a non-scalar one too; one without a near key gets no suggestion.
  const auto many = dir.write("many.toml", "w_bits = 4\nzeropoint = true\nfrobnicate = 1\nq_groupsize = [1]\n");
  Recipe awq = recipe_for("awq");
  const Recipe awq_before = awq;
  CHECK_THROWS_WITH(apply_quant_config(awq, read_quant_config(many), kAwq),
                    Contains("unknown quant_config keys 'frobnicate', 'w_bits' (did you mean 'w_bit'?), "
                             "'zeropoint' (did you mean 'zero_point'?), 'q_groupsize' (did you mean "
                             "'q_group_size'?); method 'awq' reads apply_clip, duo_scaling,") &&
                        Contains("(also as bits, wbits, group_size, sym). Fix or remove them"));
  CHECK(awq == awq_before);
}

TEST_CASE("keys other tools write are ignored and listed; the method's keys are used", "[recipe][quant_config]") {
  qf::test::TempDir dir("recipe");
  // AutoGPTQ's quantize_config.json for GPTQ.
  const auto ag = dir.write("quantize_config.json", R"({
  "bits": 4, "group_size": 64, "damp_percent": 0.01, "desc_act": true, "static_groups": false,
  "sym": true, "true_sequential": true, "model_name_or_path": null, "model_file_base_name": null,
  "quant_method": "gptq", "checkpoint_format": "gptq"})");
  Recipe r = recipe_for("gptq");
  auto use = apply_quant_config(r, read_quant_config(ag), kGptq);
  CHECK(use.used ==
        Strings{"bits", "damp_percent", "desc_act", "group_size", "static_groups", "sym", "true_sequential"});
  CHECK(use.ignored ==
        Strings{"checkpoint_format", "quant_method", "model_file_base_name (null)", "model_name_or_path (null)"});
  CHECK(std::get<int64_t>(r.method.options.at("group_size").value) == 64);
  CHECK(r.method.options.at("group_size").origin == ag.generic_string() + ": group_size");

  // The same file for RTN: it declares checkpoint_format, and GPTQ's tuning keys are ignored.
  Recipe rtn = recipe_for("rtn");
  use = apply_quant_config(rtn, read_quant_config(ag), kRtn);
  CHECK(use.used == Strings{"bits", "checkpoint_format", "group_size", "sym"});
  CHECK(use.ignored == Strings{"damp_percent", "desc_act", "quant_method", "static_groups", "true_sequential",
                               "model_file_base_name (null)", "model_name_or_path (null)"});

  // AutoAWQ's legacy file for AWQ; for GPTQ, through the aliases (zero_point=true -> sym=false).
  const auto aa = dir.write("quant_config.json", R"({"zero_point": true, "q_group_size": 32, "w_bit": 4,
    "version": "GEMM", "modules_to_not_convert": null})");
  Recipe awq = recipe_for("awq");
  use = apply_quant_config(awq, read_quant_config(aa), kAwq);
  CHECK(use.used == Strings{"q_group_size", "version", "w_bit", "zero_point"});
  CHECK(use.ignored == Strings{"modules_to_not_convert (null)"});
  CHECK(std::get<std::string>(awq.method.options.at("version").value) == "gemm");
  Recipe g = recipe_for("gptq");
  use = apply_quant_config(g, read_quant_config(aa), kGptq);
  CHECK(use.used == Strings{"q_group_size", "w_bit", "zero_point"});
  CHECK(use.ignored == Strings{"version", "modules_to_not_convert (null)"});
  CHECK(std::get<int64_t>(g.method.options.at("bits").value) == 4);
  CHECK(std::get<int64_t>(g.method.options.at("group_size").value) == 32);
  CHECK_FALSE(std::get<bool>(g.method.options.at("sym").value));
}

TEST_CASE("GPTQModel's meta table is never an error; the method's own key wins over a translated one",
          "[recipe][quant_config]") {
  qf::test::TempDir dir("recipe");
  const auto gm = dir.write("gm.json", R"({ "bits": 4, "group_size": 128, "desc_act": false, "sym": true,
    "lm_head": false, "quant_method": "gptq", "checkpoint_format": "gptq", "pack_dtype": "int32",
    "meta": { "quantizer": ["gptqmodel:5.6.12"], "uri": "https://github.com/modelcloud/gptqmodel",
              "damp_percent": 0.05, "some_future_setting": 3 }, "format": "gptq" })");
  Recipe r = recipe_for("gptq");
  const auto use = apply_quant_config(r, read_quant_config(gm), kGptq);
  CHECK(use.used == Strings{"bits", "damp_percent", "desc_act", "group_size", "sym"});
  CHECK(use.ignored == Strings{"checkpoint_format", "format", "lm_head", "pack_dtype", "quant_method",
                               "meta.some_future_setting", "meta.uri", "meta.quantizer (array)"});
  CHECK(r.method.options.at("damp_percent").origin == gm.generic_string() + ": meta.damp_percent");

  // An AWQ config that carries both zero_point and sym: AWQ's own zero_point decides.
  const auto both = dir.write("both.json", R"({"zero_point": true, "sym": true, "w_bit": 4})");
  Recipe awq = recipe_for("awq");
  const auto u = apply_quant_config(awq, read_quant_config(both), kAwq);
  CHECK(u.ignored == Strings{"sym (zero_point wins)"});
  CHECK(std::get<bool>(awq.method.options.at("zero_point").value));
}

TEST_CASE("a quant_config file that sets nothing is an error", "[recipe][quant_config]") {
  qf::test::TempDir dir("recipe");
  Recipe r = recipe_for("rtn");
  const Recipe before = r;
  const auto only_foreign = dir.write("foreign.json", R"({"quant_method": "awq", "version": "gemm", "meta": {}})");
  CHECK_THROWS_WITH(apply_quant_config(r, read_quant_config(only_foreign), kRtn),
                    only_foreign.generic_string() +
                        ": no quant_config key sets an option of method 'rtn' (not read: quant_method, version); "
                        "method 'rtn' reads bits, checkpoint_format, group_size, sym (also as w_bit, wbits, "
                        "q_group_size, zero_point)");
  const auto empty = dir.write("empty.toml", "");
  CHECK_THROWS_WITH(apply_quant_config(r, read_quant_config(empty), kRtn),
                    Contains("empty.toml: no quant_config key sets an option of method 'rtn' (the file has no keys)"));
  CHECK(r == before);
  // A model's own config.json, without quantization_config.
  const auto model = dir.write("config.json", R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 64, "num_hidden_layers": 4})");
  CHECK_THROWS_WITH(apply_quant_config(r, read_quant_config(model), kRtn),
                    model.generic_string() + ": this is a model's config.json without a 'quantization_config' "
                                             "object; pass a quantization config (quant_config.json, "
                                             "quantize_config.json) or a quantized model's config.json");
  // A value that cannot translate names the file and key.
  const auto bad = dir.write("bad.json", R"({"zero_point": 1})");
  CHECK_THROWS_WITH(apply_quant_config(r, read_quant_config(bad), kRtn),
                    bad.generic_string() + ": zero_point: option 'zero_point' must be a boolean to translate to "
                                           "'sym', got integer");
}

TEST_CASE("closest_name suggests only near names", "[recipe][quant_config]") {
  const Strings names = {"bits", "group_size", "zero_point", "desc_act"};
  CHECK(closest_name("group_sise", names) == "group_size");
  CHECK(closest_name("gruop_size", names) == "group_size");  // two swapped letters are one edit
  CHECK(closest_name("bit", names) == "bits");
  CHECK(closest_name("zeropoint", names) == "zero_point");
  CHECK(closest_name("desc", names).empty());
  CHECK(closest_name("frobnicate", names).empty());
  CHECK(closest_name("x", {}).empty());
}
