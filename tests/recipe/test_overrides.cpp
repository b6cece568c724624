// CLI overrides: value parsing and setting method options with an origin.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "recipe/overrides.hpp"
#include "recipe/quant_config.hpp"
#include "recipe/recipe.hpp"

using namespace qf::recipe;

TEST_CASE("parse_cli_value picks bool, integer, float, else string", "[recipe][overrides]") {
  CHECK(parse_cli_value("true") == OptionValue{true});
  CHECK(parse_cli_value("False") == OptionValue{false});
  CHECK(parse_cli_value("4") == OptionValue{int64_t{4}});
  CHECK(parse_cli_value("-1") == OptionValue{int64_t{-1}});
  CHECK(parse_cli_value("+8") == OptionValue{int64_t{8}});
  CHECK(parse_cli_value("9223372036854775807") == OptionValue{INT64_MAX});
  CHECK(parse_cli_value("0.1") == OptionValue{0.1});
  CHECK(parse_cli_value("1e-3") == OptionValue{1e-3});
  CHECK(parse_cli_value("-.5") == OptionValue{-0.5});
  CHECK(parse_cli_value("2.") == OptionValue{2.0});
  CHECK(parse_cli_value("gemm") == OptionValue{std::string("gemm")});
  CHECK(parse_cli_value("5GB") == OptionValue{std::string("5GB")});
  CHECK(parse_cli_value("") == OptionValue{std::string()});
  CHECK(parse_cli_value("nan") == OptionValue{std::string("nan")});
  CHECK(parse_cli_value("1e") == OptionValue{std::string("1e")});
  CHECK(parse_cli_value("0x10") == OptionValue{std::string("0x10")});
  CHECK(parse_cli_value("yes") == OptionValue{std::string("yes")});
  CHECK_THROWS_WITH(parse_cli_value("99999999999999999999"), Catch::Contains("integer out of range"));
}

TEST_CASE("set_method_option replaces or adds, with the origin", "[recipe][overrides]") {
  Recipe r = parse_recipe("[method]\nplugin = \"gptq\"\n[method.options]\nbits = 8\n[[formats]]\nplugin = \"w\"\n"
                          "[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"GPTQ_{bits}bit_CPU\"\n",
                          "configs/gptq.toml");
  CHECK(r.method.options.at("bits").origin == "configs/gptq.toml:4");
  CHECK(expand_placeholders(r.layout.subdirectory, r) == "GPTQ_8bit_CPU");

  set_method_option(r, "bits", parse_cli_value("4"), "--bits");
  CHECK(std::get<int64_t>(r.method.options.at("bits").value) == 4);
  CHECK(r.method.options.at("bits").origin == "--bits");
  CHECK(expand_placeholders(r.layout.subdirectory, r) == "GPTQ_4bit_CPU");

  set_method_option(r, "desc_act", parse_cli_value("true"), "--desc_act");
  CHECK(std::get<bool>(r.method.options.at("desc_act").value));
  CHECK_THROWS_AS(set_method_option(r, "", true, "--x"), qf::Error);

  set_method_option(r, "bits", std::string("four"), "--bits");
  CHECK_THROWS_WITH(expand_placeholders(r.layout.subdirectory, r),
                    Catch::Contains("--bits: option 'bits' must be an integer"));
}

TEST_CASE("expand_placeholders is alias-aware", "[recipe][overrides]") {
  Recipe r = parse_recipe("[method]\nplugin = \"awq\"\n[method.options]\nw_bit = 4\nq_group_size = 64\n"
                          "[[formats]]\nplugin = \"w\"\n",
                          "a.toml");
  CHECK(expand_placeholders("AWQ_{bits}bit_g{group_size}", r) == "AWQ_4bit_g64");
  r.method.options.clear();
  CHECK_THROWS_WITH(expand_placeholders("X_{bits}", r), Catch::Contains("has no option 'bits'"));
  CHECK_THROWS_WITH(expand_placeholders("X_{foo}", r), Catch::Contains("unknown placeholder {foo}"));
}
