// scripts/test.sh and scripts/demo.sh, the README's two commands, run as a user runs them, in order,
// on a stand-in source tree: the real scripts, a no-op setup.sh (dependencies are installed here
// already), and a tiny CMake project with QuantForge's QF_BUILD_TESTS / QF_BUILD_BENCH options whose
// ctest suite reports which options it was configured with. The demo runs the real quantforge
// (linked into the stand-in build/bin) on the real bundled model and held-out text.
#include <catch2/catch.hpp>

#include "cli/shell_run.hpp"
#include "support/temp_dir.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using qf::test::Result;

Result shell(const std::string& command) { return qf::test::run_shell(command); }

void write_file(const fs::path& p, const std::string& text, bool executable = false) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  if (executable) fs::permissions(p, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                                  fs::perm_options::add);
}

using qf::test::ScopedEnv;

// A stand-in source tree in a fresh temp folder, removed at the end.
struct StandInTree {
  qf::test::TempDir tmp{"scripts_test"};
  fs::path root = tmp.path();
  StandInTree() {
    const fs::path src = fs::path(QF_SOURCE_DIR) / "scripts";
    for (const char* s : {"build.sh", "test.sh", "demo.sh"}) {
      fs::create_directories(root / "scripts");
      fs::copy_file(src / s, root / "scripts" / s);
    }
    write_file(root / "scripts" / "setup.sh", "#!/bin/sh\necho 'setup: (stand-in, nothing to install)'\n", true);
    // Each test reports an option it was configured with; a file named no-tests makes an empty suite.
    write_file(root / "CMakeLists.txt", R"(cmake_minimum_required(VERSION 3.18)
project(StandIn LANGUAGES NONE)
option(QF_BUILD_TESTS "Build the tests" ON)
option(QF_BUILD_BENCH "Build the benchmarks" ON)
if(QF_BUILD_TESTS)
  enable_testing()
  if(NOT EXISTS ${CMAKE_SOURCE_DIR}/no-tests)
    add_test(NAME standin_tests_on COMMAND ${CMAKE_COMMAND} -E echo tests-on)
    if(QF_BUILD_BENCH)
      add_test(NAME standin_bench_on COMMAND ${CMAKE_COMMAND} -E echo bench-on)
    endif()
  endif()
endif()
)");
  }

  Result run(const std::string& script, const std::string& env = "") const {
    return shell("cd " + root.string() + " && " + env + " scripts/" + script);
  }
};

// The decimal number after `label` and spaces at a line start ("" when there is none).
std::string number_after(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("\n\\s*" + label + R"(\s+([0-9]+\.[0-9]+))"))) return "";
  return m[1];
}

std::string regex_escaped(const std::string& s) {
  return std::regex_replace(s, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
}

}  // namespace

TEST_CASE("scripts/test.sh after scripts/demo.sh builds and runs the whole suite", "[scripts]") {
  StandInTree tree;
  // What scripts/demo.sh leaves behind: build/ configured with tests and benchmarks off.
  const std::string demo_flags = "-DQF_BUILD_TESTS=OFF -DQF_BUILD_BENCH=OFF";
  {
    std::ifstream demo(fs::path(QF_SOURCE_DIR) / "scripts" / "demo.sh");
    const std::string text((std::istreambuf_iterator<char>(demo)), std::istreambuf_iterator<char>());
    REQUIRE_THAT(text, Catch::Contains("scripts/build.sh " + demo_flags));
  }
  auto r = tree.run("build.sh " + demo_flags);
  INFO(r.output);
  REQUIRE(r.code == 0);

  r = tree.run("test.sh");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("standin_tests_on") && Catch::Contains("standin_bench_on") &&
                           Catch::Contains("100% tests passed, 0 tests failed out of 2"));
}

TEST_CASE("scripts/test.sh fails loudly when ctest finds no test", "[scripts]") {
  StandInTree tree;
  write_file(tree.root / "no-tests", "");
  const auto r = tree.run("test.sh");
  INFO(r.output);
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Catch::Contains("No tests were found"));
}

TEST_CASE("scripts/demo.sh ends with perplexity before and after on held-out text and the times", "[scripts]") {
  StandInTree tree;
  fs::create_directories(tree.root / "build" / "bin");
  fs::create_symlink(fs::path(QF_BINARY_DIR) / "bin" / "quantforge", tree.root / "build" / "bin" / "quantforge");
  fs::create_directories(tree.root / "tests" / "data");
  for (const char* d : {"models", "text"})
    fs::create_directory_symlink(fs::path(QF_TEST_DATA_DIR) / d, tree.root / "tests" / "data" / d);
  // No calibration data of the user's: the demo must run on what QuantForge ships.
  const fs::path no_data = tree.root / "no-data";
  fs::create_directories(no_data);
  const ScopedEnv env("QUANTFORGE_DATA_DIR", no_data.string());

  // Both output layouts: AWQ in place (the default method, small calibration to stay quick) and a
  // subfolder (RTN).
  for (const std::string method : {"--awq --num_samples 8 --seqlen 128", "--recipe rtn"}) {
    // One thread and 8 held-out windows keep it quick beside other tests; the demo's defaults differ
    // only in those numbers.
    const auto r = tree.run("demo.sh", "QF_DEMO_THREADS=1 QF_DEMO_EVAL_WINDOWS=8 QF_DEMO_METHOD='" + method + "'");
    INFO(method << "\n" << r.output);
    REQUIRE(r.code == 0);
    CHECK_THAT(r.output,
               Catch::Contains("demo summary") && Catch::Contains("method       quantforge quantize " + method));
    CHECK_THAT(r.output, Catch::Contains("perplexity on held-out text (tests/data/text/heldout.txt, ") &&
                             Catch::Contains(", 8 windows x 512 tokens)"));
    const std::string before = number_after(r.output, "before");
    const std::string after = number_after(r.output, "after");
    REQUIRE_FALSE(before.empty());
    REQUIRE_FALSE(after.empty());
    CHECK(std::stod(before) > 1.0);
    CHECK(std::stod(after) > 1.0);
    // The summary's numbers are quantforge eval's table: the base row's and the quantized model's.
    CHECK(std::regex_search(r.output, std::regex(R"(\(base\)\s+[0-9]+\s+[0-9]+\s+)" + regex_escaped(before) + "\n")));
    CHECK(std::regex_search(r.output, std::regex(R"(\n[^\n(]+\s+[0-9]+\s+[0-9]+\s+)" + regex_escaped(after) + "\n")));
    CHECK_THAT(r.output, Catch::Contains("result       done in ") && Catch::Contains("weights 10.49 MB -> "));
    CHECK(std::regex_search(r.output,
                            std::regex(R"(time\s+quantize [0-9]+ s, evaluate [0-9]+ s; whole demo [0-9]+ s)")));
  }
  CHECK(fs::exists(tree.root / "build" / "demo" / "tiny-llama" / "RTN_4bit_CPU" / "model.safetensors"));
}
