// Strict validation: every message names the file, the line and the key path.
#include <catch2/catch.hpp>

#include "common/error.hpp"
#include "recipe/recipe.hpp"

using namespace qf::recipe;
using Catch::Contains;

namespace {

// Line numbers:   1        2          3               4                5         6             7                        8         9
const std::string kHead = "name = \"t\"\n[method]\nplugin = \"rtn\"\n[method.options]\nbits = 4\n[[formats]]\nplugin = \"safetensors_writer\"\n";
const std::string kLayout = "[layout]\npolicy = \"standalone\"\n";

std::string error_of(const std::string& text) {
  try {
    parse_recipe(text, "configs/t.toml");
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

TEST_CASE("the base text is valid", "[recipe][errors]") {
  const Recipe r = parse_recipe(kHead + kLayout, "configs/t.toml");
  CHECK(r.layout.policy == LayoutPolicy::Standalone);
  CHECK(r.layout.index_file == "model.safetensors.index.json");
  CHECK(r.layout.copy_model_files);
  // No [layout] at all: standalone with defaults.
  CHECK(parse_recipe(kHead, "x.toml").layout == r.layout);
  CHECK(parse_recipe(kHead, "dir/x.toml").source_file == "dir/x.toml");
}

TEST_CASE("unknown keys name the key path and line", "[recipe][errors]") {
  // line 3 is inside [method]
  const std::string text = "name = \"t\"\n[method]\noptionz = 1\nplugin = \"rtn\"\n[[formats]]\nplugin = \"w\"\n";
  CHECK_THAT(error_of(text), Contains("configs/t.toml:3: unknown key 'method.optionz'") &&
                                 Contains("expected one of: plugin, options"));
  CHECK_THAT(error_of("colour = 1\n" + kHead), Contains("configs/t.toml:1: unknown key 'colour'"));
  CHECK_THAT(error_of(kHead + "[[formats]]\nplugin = \"i\"\nopts = {}\n"),
             Contains("configs/t.toml:10: unknown key 'formats[1].opts'"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"standalone\"\nsufix = \"-A\"\n"),
             Contains("configs/t.toml:10: unknown key 'layout.sufix'"));
  CHECK_THAT(error_of(kHead + "[calibration]\nnsamples = 3\n"),
             Contains("configs/t.toml:9: unknown key 'calibration.nsamples'"));
}

TEST_CASE("wrong types name the key path, both types and the line", "[recipe][errors]") {
  CHECK_THAT(error_of(kHead + "[calibration]\nnum_samples = \"128\"\n"),
             Contains("configs/t.toml:9: 'calibration.num_samples' has type string, expected integer"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"standalone\"\ncopy_model_files = 1\n"),
             Contains("configs/t.toml:10: 'layout.copy_model_files' has type integer, expected boolean"));
  CHECK_THAT(error_of("[method]\nplugin = 5\n[[formats]]\nplugin = \"w\"\n"),
             Contains("configs/t.toml:2: 'method.plugin' has type integer, expected string"));
  CHECK_THAT(error_of("[method]\nplugin = \"rtn\"\n[formats]\nplugin = \"w\"\n"),
             Contains("configs/t.toml:3: 'formats' has type table, expected array of tables"));
  CHECK_THAT(error_of("method = \"rtn\"\n[[formats]]\nplugin = \"w\"\n"),
             Contains("configs/t.toml:1: 'method' has type string, expected table"));
  CHECK_THAT(error_of("name = 3\n" + kHead.substr(kHead.find('\n') + 1)),
             Contains("configs/t.toml:1: 'name' has type integer, expected string"));
}

TEST_CASE("option values must be scalars", "[recipe][errors]") {
  std::string text = kHead;
  text.replace(text.find("bits = 4"), 8, "bits = [4, 8]");
  CHECK_THAT(error_of(text), Contains("configs/t.toml:5: 'method.options.bits' must be a scalar") &&
                                 Contains("got array"));
  CHECK_THAT(error_of(kHead + "[formats.options]\nmax_shard_size = { value = 5 }\n"),
             Contains("configs/t.toml:9: 'formats[0].options.max_shard_size' must be a scalar") &&
                 Contains("got table"));
  CHECK_THAT(error_of(kHead + "[formats.options]\nwhen = 1979-05-27\n"), Contains("got date"));
}

TEST_CASE("bad enum values list the choices and echo the value", "[recipe][errors]") {
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"inplace\"\n"),
             Contains("configs/t.toml:9: 'layout.policy' must be one of in_place, subdirectory, standalone "
                      "(got \"inplace\")"));
  CHECK_THAT(error_of("compute_dtype = \"fp16\"\n" + kHead),
             Contains("configs/t.toml:1: 'compute_dtype' must be one of auto, fp32, bf16 (got \"fp16\")"));
}

TEST_CASE("TOML syntax errors name file, line and column", "[recipe][errors]") {
  std::string text = kHead;
  text.replace(text.find("bits = 4"), 8, "bits = = 4");
  const std::string msg = error_of(text);
  CHECK_THAT(msg, Contains("configs/t.toml:5:") && Contains("TOML syntax error"));
  CHECK(msg.find("configs/t.toml:5:8") != std::string::npos);
  CHECK_THAT(error_of("[method\n"), Contains("configs/t.toml:1:") && Contains("TOML syntax error"));
}

TEST_CASE("missing required keys", "[recipe][errors]") {
  CHECK_THAT(error_of("[[formats]]\nplugin = \"w\"\n"), Contains("configs/t.toml: missing required table [method]"));
  CHECK_THAT(error_of("[method]\n[method.options]\nbits = 4\n[[formats]]\nplugin = \"w\"\n"),
             Contains("configs/t.toml:1: missing required key 'method.plugin'"));
  CHECK_THAT(error_of("[method]\nplugin = \"rtn\"\n"), Contains("missing required key 'formats'"));
  CHECK_THAT(error_of("formats = []\n[method]\nplugin = \"rtn\"\n"),
             Contains("configs/t.toml:1: 'formats' is empty"));
  CHECK_THAT(error_of("[method]\nplugin = \"rtn\"\n[[formats]]\n[formats.options]\na = 1\n"),
             Contains("configs/t.toml:3: missing required key 'formats[0].plugin'"));
  CHECK_THAT(error_of(kHead + "[layout]\nsuffix = \"-A\"\n"), Contains("configs/t.toml:8: missing required key 'layout.policy'"));
}

TEST_CASE("layout safety rules", "[recipe][errors]") {
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"in_place\"\ncopy_model_files = false\n"),
             Contains("configs/t.toml:9: layout policy in_place needs a non-empty 'layout.suffix'"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"in_place\"\nsuffix = \"-A\"\ncopy_model_files = true\n"),
             Contains("configs/t.toml:11: 'layout.copy_model_files' must be false with policy in_place"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"in_place\"\nsuffix = \"-A\"\nquant_config_file = \"config.json\"\n"),
             Contains("configs/t.toml:11: 'layout.quant_config_file' = \"config.json\" would overwrite"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"subdirectory\"\n"),
             Contains("configs/t.toml:9: layout policy subdirectory needs 'layout.subdirectory'"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"../out\"\n"),
             Contains("configs/t.toml:10: 'layout.subdirectory' must be a plain file name"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"subdirectory\"\nsubdirectory = \"Q_{bitz}\"\n"),
             Contains("configs/t.toml:10: 'layout.subdirectory' uses unknown placeholder {bitz}"));
  CHECK_THAT(error_of(kHead + "[layout]\npolicy = \"standalone\"\nsubdirectory = \"Q\"\n"),
             Contains("'layout.subdirectory' is only used with policy subdirectory"));
  CHECK_THAT(error_of(kHead + "[calibration]\nnum_samples = 0\n"),
             Contains("configs/t.toml:9: 'calibration.num_samples' must be positive (got 0)"));
  // in_place: the default index name carries the suffix, so it never collides with the original.
  const Recipe r = parse_recipe(kHead + "[layout]\npolicy = \"in_place\"\nsuffix = \"-X\"\n", "t.toml");
  CHECK(r.layout.index_file == "model-X.safetensors.index.json");
  CHECK_FALSE(r.layout.copy_model_files);
}

TEST_CASE("recipe files: unreadable paths are errors naming them", "[recipe][errors]") {
  CHECK_THAT(std::string([] {
               try {
                 load_recipe_file("/nonexistent/dir/r.toml");
               } catch (const qf::Error& e) {
                 return std::string(e.what());
               }
               return std::string();
             }()),
             Contains("/nonexistent/dir/r.toml: cannot open recipe file"));
  CHECK_THROWS_WITH(load_recipe_file(QF_SOURCE_DIR), Contains("is a directory"));
}

TEST_CASE("validate() rechecks recipes built in code", "[recipe][errors]") {
  Recipe r = parse_recipe(kHead, "mine.toml");
  r.layout.policy = LayoutPolicy::InPlace;
  r.layout.copy_model_files = false;
  CHECK_THROWS_WITH(validate(r), Contains("mine.toml: layout policy in_place needs a non-empty 'layout.suffix'"));
  r.layout.suffix = "-Q";
  CHECK_THROWS_WITH(validate(r), Contains("'layout.index_file' = \"model.safetensors.index.json\" would overwrite"));
  r.layout.index_file = "model-Q.safetensors.index.json";
  CHECK_NOTHROW(validate(r));
}
