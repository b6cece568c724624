// Loading plugins: the bundled ones load and describe themselves; each broken plugin fails with
// one clear message naming the file and the problem.
#include <catch2/catch.hpp>
#include <fstream>

#include "common/error.hpp"
#include "host/plugin_registry.hpp"

namespace fs = std::filesystem;
using qf::host::PluginRegistry;

namespace {

std::string broken(const std::string& c) { return std::string(QF_BROKEN_PLUGIN_DIR) + "/" + c; }

std::string load_error(const std::vector<fs::path>& dirs) {
  PluginRegistry r;
  try {
    r.load_directories(dirs);
  } catch (const qf::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the bundled plugins load with their descriptors", "[registry]") {
  PluginRegistry r;
  r.load_directories({QF_PLUGIN_BUILD_DIR});
  auto rtn = r.find("rtn");
  REQUIRE(rtn);
  CHECK(rtn->kind() == QF_KIND_METHOD);
  CHECK(rtn->method() != nullptr);
  CHECK(rtn->format() == nullptr);
  REQUIRE(rtn->option("bits"));
  CHECK(rtn->option("bits")->type == QF_OPTION_INT);
  CHECK(rtn->option("bits")->default_text == "4");
  auto writer = r.find("safetensors_writer");
  REQUIRE(writer);
  CHECK(writer->kind() == QF_KIND_FORMAT);
  CHECK(r.find("index_writer"));
  CHECK_FALSE(r.find("nope"));
  // Loading the same folder again is not a duplicate.
  r.load_directories({QF_PLUGIN_BUILD_DIR});
  CHECK(r.plugins().size() >= 3);
}

TEST_CASE("a plugin library stays loaded while something it made is alive", "[registry]") {
  std::shared_ptr<const qf::host::Plugin> kept;
  {
    PluginRegistry r;
    r.load_directories({QF_PLUGIN_BUILD_DIR});
    kept = r.find("rtn");
  }
  // The registry is gone; the descriptor (plugin-owned memory) must still be readable.
  CHECK(kept->name() == "rtn");
  CHECK(kept->description().find("Round-to-nearest") != std::string::npos);
}

TEST_CASE("a file that is not a shared library is a clear error", "[registry][broken]") {
  const fs::path dir = fs::temp_directory_path() / "qf_test_not_a_library";
  fs::create_directories(dir);
  std::ofstream(dir / "libgarbage_plugin.so") << "this is not an ELF file";
  const std::string msg = load_error({dir});
  CHECK_THAT(msg, Catch::Contains("libgarbage_plugin.so") && Catch::Contains("not a loadable shared library"));
  fs::remove_all(dir);
}

TEST_CASE("each broken plugin fails with one clear message", "[registry][broken]") {
  CHECK_THAT(load_error({broken("missing_entry")}),
             Catch::Contains("libnoentry_plugin.so") && Catch::Contains("missing the entry symbol"));
  CHECK_THAT(load_error({broken("abi_mismatch")}),
             Catch::Contains("libfuture_plugin.so") && Catch::Contains("ABI major version 99") &&
                 Catch::Contains("host's 1") && Catch::Contains("plugin ABI 99.7"));
  CHECK_THAT(load_error({broken("duplicate")}),
             Catch::Contains("duplicate plugin name 'dup'") && Catch::Contains("libdup_"));
  CHECK_THAT(load_error({broken("init_fails")}),
             Catch::Contains("failed to initialise: license file missing") && Catch::Contains("libinitfail_plugin.so"));
  CHECK_THAT(load_error({broken("init_throws")}),
             Catch::Contains("threw an exception out of init") && Catch::Contains("libinitthrow_plugin.so"));
}

TEST_CASE("a missing plugin folder is skipped, and the search path honours the environment", "[registry]") {
  CHECK(load_error({"/nonexistent/quantforge/plugins"}).empty());
  setenv("QUANTFORGE_PLUGIN_PATH", "/a:/b", 1);
  const auto dirs = PluginRegistry::search_path({"/explicit"});
  unsetenv("QUANTFORGE_PLUGIN_PATH");
  REQUIRE(dirs.size() >= 3);
  CHECK(dirs[0] == "/explicit");
  CHECK(dirs[1] == "/a");
  CHECK(dirs[2] == "/b");
}
