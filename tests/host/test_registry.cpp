// Loading plugins: the bundled ones load and describe themselves; each broken plugin fails with
// one clear message naming the file and the problem, and does not stop the others from loading.
#include <catch2/catch.hpp>
#include <elf.h>
#include <fstream>
#include <random>

#include "common/error.hpp"
#include "host/library_file.hpp"
#include "host/plugin_registry.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::host::PluginRegistry;

namespace {

std::string broken(const std::string& c) { return std::string(QF_BROKEN_PLUGIN_DIR) + "/" + c; }

// The failures of loading `dirs`, one "FILE: reason" per line; load_directories itself never throws.
std::string load_error(const std::vector<fs::path>& dirs) {
  PluginRegistry r;
  r.load_directories(dirs);
  std::string out;
  for (const auto& f : r.failures()) out += f.message() + "\n";
  return out;
}

using qf::test::TempDir;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A real plugin library with two bytes of its ELF header changed.
std::string patched_plugin(size_t offset, uint16_t value) {
  std::string bytes = file_bytes(std::string(QF_PLUGIN_BUILD_DIR) + "/librtn_plugin.so");
  REQUIRE(bytes.size() > 64);
  bytes[offset] = static_cast<char>(value & 0xff);
  bytes[offset + 1] = static_cast<char>(value >> 8);
  return bytes;
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

TEST_CASE("a file that is not a shared library says so in plain words", "[registry][broken]") {
  TempDir dir;
  std::string random_bytes(4096, '\0');
  std::mt19937 gen(7);
  for (auto& c : random_bytes) c = static_cast<char>(gen() & 0xff);
  random_bytes[0] = 'Q';  // whatever the seed, not the ELF magic
  const std::string plugin = file_bytes(std::string(QF_PLUGIN_BUILD_DIR) + "/librtn_plugin.so");
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {dir.write("librandom_plugin.so", random_bytes), "not a shared library (invalid ELF header)"},
      {dir.write("libtext_plugin.so", "this is not an ELF file\n"), "not a shared library (invalid ELF header)"},
      {dir.write("libempty_plugin.so", ""), "empty file, not a shared library"},
      {dir.write("libarchive_plugin.so", "!<arch>\nfoo.o/          "),
       "a static archive (.a), not a shared library: build the plugin as a shared (MODULE) library"},
      {dir.write("libtruncated_plugin.so", plugin.substr(0, 40)), "not a shared library (truncated ELF file)"},
      {dir.write("libs390_plugin.so", patched_plugin(18, EM_S390)),
       "built for s390x, but this machine is "},  // then the build machine's CPU
      {dir.write("libobject_plugin.so", patched_plugin(16, ET_REL)),
       "an object file (.o), not a shared library: link the plugin as a shared (MODULE) library"},
  };
  PluginRegistry r;
  for (const auto& [file, reason] : cases) {
    CAPTURE(file);
    CHECK_THROWS_WITH(r.load_file(file), Catch::StartsWith(file.string() + ": " + reason));
  }
  r.load_directories({dir.path()});
  REQUIRE(r.failures().size() == cases.size());
  for (const auto& [file, reason] : cases) {
    CAPTURE(file);
    bool found = false;
    for (const auto& f : r.failures()) found = found || (f.file == file && f.reason.rfind(reason, 0) == 0);
    CHECK(found);
  }
  CHECK(r.plugins().empty());
}

TEST_CASE("one broken library does not stop the others from loading", "[registry][broken]") {
  TempDir dir;
  for (const char* name : {"librtn_plugin.so", "libsafetensors_writer_plugin.so"})
    fs::copy_file(std::string(QF_PLUGIN_BUILD_DIR) + "/" + name, dir.path() / name);
  fs::copy_file(broken("missing_entry") + "/libnoentry_plugin.so", dir.path() / "libnoentry_plugin.so");
  fs::copy_file(broken("abi_mismatch") + "/libfuture_plugin.so", dir.path() / "libfuture_plugin.so");
  dir.write("libgarbage_plugin.so", "not a library");
  PluginRegistry r;
  REQUIRE_NOTHROW(r.load_directories({dir.path()}));
  CHECK(r.find("rtn"));
  CHECK(r.find("safetensors_writer"));
  CHECK(r.plugins().size() == 2);
  REQUIRE(r.failures().size() == 3);  // in file-name order
  CHECK(r.failures()[0].file == dir.path() / "libfuture_plugin.so");
  CHECK_THAT(r.failures()[0].reason, Catch::StartsWith("plugin ABI major version 99 does not match the host's 1"));
  CHECK(r.failures()[1].reason == "not a shared library (invalid ELF header)");
  CHECK_THAT(r.failures()[2].reason, Catch::StartsWith("missing the entry symbol 'quantforge_plugin_entry'"));
  // Which plugin a failed library would have provided: lib<name>_plugin.so.
  REQUIRE(r.failure_for("future") != nullptr);
  CHECK(r.failure_for("future")->file == dir.path() / "libfuture_plugin.so");
  CHECK(r.failure_for("garbage") == &r.failures()[1]);
  CHECK(r.failure_for("rtn") == nullptr);
  CHECK(r.failure_for("garb") == nullptr);
  // Loading the folder again records nothing twice.
  r.load_directories({dir.path()});
  CHECK(r.failures().size() == 3);
}

TEST_CASE("dynamic linker errors in plain words", "[registry][broken]") {
  const std::string msg = load_error({broken("undefined_symbol")});
  CHECK_THAT(msg, Catch::Contains("libundefsym_plugin.so: undefined symbol qf_test_function_nobody_defines(int): "
                                  "the plugin was built against a different version of a library it uses; "
                                  "rebuild it against this installation"));
  const fs::path f = "/p/libx_plugin.so";
  using qf::host::explain_dlerror;
  CHECK(explain_dlerror("libfoo.so.3: cannot open shared object file: No such file or directory", f) ==
        "needs libfoo.so.3, which was not found: install it or add its folder to LD_LIBRARY_PATH");
  CHECK(explain_dlerror("/usr/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by "
                        "/p/libx_plugin.so)",
                        f) ==
        "needs a newer library than this system has (/usr/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found "
        "(required by /p/libx_plugin.so)); rebuild the plugin on this system");
  CHECK(explain_dlerror("/p/libx_plugin.so: invalid ELF header", f) == "not a shared library (invalid ELF header)");
  CHECK(explain_dlerror("/p/libx_plugin.so: cannot dynamically load position-independent executable", f) ==
        "an executable, not a shared library");
  CHECK(explain_dlerror("/p/libx_plugin.so: something new", f) == "cannot be loaded: something new");
}

TEST_CASE("each broken plugin fails with one clear message", "[registry][broken]") {
  CHECK_THAT(load_error({broken("missing_entry")}),
             Catch::Contains("libnoentry_plugin.so: missing the entry symbol 'quantforge_plugin_entry' (not a "
                             "QuantForge plugin, or built without QF_DEFINE_*_PLUGIN)"));
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
