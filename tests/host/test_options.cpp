// Plugin options: defaults from the descriptor, values from the recipe checked against the schema.
#include <catch2/catch.hpp>

#include "common/blas_environment.hpp"

#include "common/error.hpp"
#include "host/options.hpp"

using namespace qf::host;

TEST_CASE("options resolve defaults and check types", "[options]") {
  PluginRegistry r;
  r.load_directories({QF_PLUGIN_BUILD_DIR});
  const auto rtn = r.find("rtn");
  REQUIRE(rtn);
  auto opts = resolve_options(*rtn, {});
  CHECK(std::get<int64_t>(opts.at("bits")) == 4);
  CHECK(std::get<bool>(opts.at("sym")) == false);
  CHECK(std::get<std::string>(opts.at("checkpoint_format")) == "gptq");

  opts = resolve_options(*rtn, {{"bits", GivenOption{int64_t{8}, "--bits"}}});
  CHECK(std::get<int64_t>(opts.at("bits")) == 8);

  CHECK_THROWS_WITH(resolve_options(*rtn, {{"bits", GivenOption{std::string("eight"), "recipe.toml:4"}}}),
                    Catch::Contains("recipe.toml:4") && Catch::Contains("'bits'") && Catch::Contains("must be int"));
  CHECK_THROWS_WITH(resolve_options(*rtn, {{"bitz", GivenOption{int64_t{8}, "--bitz"}}}),
                    Catch::Contains("no option 'bitz'") && Catch::Contains("options: bits"));
}

TEST_CASE("huge pages for malloc join whatever GLIBC_TUNABLES holds, unless it already names them", "[unit]") {
  CHECK(qf::with_malloc_huge_pages(nullptr) == "glibc.malloc.hugetlb=1");
  CHECK(qf::with_malloc_huge_pages("") == "glibc.malloc.hugetlb=1");
  CHECK(qf::with_malloc_huge_pages("glibc.malloc.check=3") == "glibc.malloc.check=3:glibc.malloc.hugetlb=1");
  CHECK(qf::with_malloc_huge_pages("glibc.malloc.hugetlb=0").empty());
  CHECK(qf::with_malloc_huge_pages("a=1:glibc.malloc.hugetlb=2").empty());
}
