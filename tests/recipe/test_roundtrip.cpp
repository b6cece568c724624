// to_toml -> parse_recipe gives an equal recipe (what `quantforge recipe show` prints is loadable).
#include <catch2/catch.hpp>

#include <cmath>

#include "recipe/overrides.hpp"
#include "recipe/recipe.hpp"

using namespace qf::recipe;

namespace {
const std::filesystem::path kConfigs = std::filesystem::path(QF_SOURCE_DIR) / "configs";
}

TEST_CASE("shipped recipes round-trip through to_toml", "[recipe][roundtrip]") {
  for (const char* name : {"rtn", "awq", "gptq"}) {
    INFO(name);
    const Recipe r = load_recipe_file(kConfigs / (std::string(name) + ".toml"));
    const std::string text = to_toml(r);
    const Recipe back = parse_recipe(text, "shown.toml");
    CHECK(back == r);
    CHECK(to_toml(back).find("policy = ") != std::string::npos);
    // Origins appear as comments.
    CHECK(text.find("configs/" + std::string(name) + ".toml:") != std::string::npos);
  }
}

TEST_CASE("overridden and awkward values round-trip", "[recipe][roundtrip]") {
  Recipe r = load_recipe_file(kConfigs / "gptq.toml");
  set_method_option(r, "bits", parse_cli_value("4"), "--bits");
  set_method_option(r, "damp_percent", 0.1 + 0.2, "--damp_percent");  // 0.30000000000000004
  set_method_option(r, "big", 1e300, "code");
  set_method_option(r, "tiny", -5e-324, "code");
  set_method_option(r, "whole", 3.0, "code");
  set_method_option(r, "neg", int64_t{INT64_MIN}, "code");
  set_method_option(r, "text", std::string("quote \" backslash \\ newline \n tab \t bell \x07 é"), "code");
  set_method_option(r, "odd key.with dots", true, "code");
  r.description = "multi\nline \"described\"";
  r.compute_dtype = "bf16";
  r.calibration->dataset_path = "/data/wiki text.txt";
  const std::string text = to_toml(r);
  CHECK(text.find("bits = 4  # --bits") != std::string::npos);
  const Recipe back = parse_recipe(text, "shown.toml");
  CHECK(back == r);
  CHECK(std::get<double>(back.method.options.at("damp_percent").value) == 0.1 + 0.2);
  CHECK(std::get<double>(back.method.options.at("whole").value) == 3.0);

  set_method_option(r, "inf", HUGE_VAL, "code");
  CHECK(parse_recipe(to_toml(r), "s.toml") == r);

  Recipe other = back;
  other.method.options["bits"].value = int64_t{8};
  CHECK(other != r);
}
