// `quantforge quantize` with calibration checks the memory its plan needs before the first layer:
// a plan that cannot fit is refused with the estimate, the memory available and the flags that
// lower it, and nothing is written. $QUANTFORGE_AVAILABLE_MEMORY stands in for the machine's memory.
// An allocation that fails anyway (here: under an address-space limit, so nothing is ever touched)
// gives the same figures instead of a LibTorch backtrace.
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "shell_run.hpp"
#include "support/temp_dir.hpp"
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

namespace fs = std::filesystem;

namespace {

using qf::test::Result;

Result run(const std::string& env_and_args) { return qf::test::run_shell("QUANTFORGE_DATA_DIR= " + env_and_args); }

const std::string kExe = std::string(QF_BINARY_DIR) + "/bin/quantforge";

// A copy of the bundled model in `tmp`; the runs' logs go beside it.
fs::path copy_of_tiny_llama(const qf::test::TempDir& tmp) {
  const fs::path dir = tmp / "tiny-llama";
  fs::copy(std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama", dir, fs::copy_options::recursive);
  return dir;
}

// Every file under dir with its size and modification time, except the failed run's own log (kept
// beside the destination on purpose, and named in the output).
std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> snapshot(const fs::path& dir) {
  std::map<std::string, std::pair<uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().rfind("quantize-failed-", 0) != 0)
      out[fs::relative(e.path(), dir).string()] = {e.file_size(), e.last_write_time()};
  return out;
}

}  // namespace

TEST_CASE("a calibration plan that cannot fit is refused before any layer, nothing written", "[cli][memory]") {
  const qf::test::TempDir tmp("cli_memory");
  const fs::path dir = copy_of_tiny_llama(tmp);
  const auto before = snapshot(dir);
  for (const char* method : {"--awq", "--gptq"}) {
    INFO(method);
    const auto r =
        run("QUANTFORGE_AVAILABLE_MEMORY=64M " + kExe + " quantize " + dir.string() + " " + method +
            " --dataset bundled --num_samples 32 --seqlen 256 --threads 1 --log-file " + dir.string() + "_refused.log");
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output,
               Catch::Contains("the calibration needs about ") &&
                   Catch::Contains(" at its peak (32 samples x 256 tokens, hidden 256, intermediate 768, compute ") &&
                   Catch::Contains("but only 64 MiB is available (QUANTFORGE_AVAILABLE_MEMORY): lower "
                                   "--num_samples (at most ") &&
                   Catch::Contains(" fit at --seqlen 256) or --seqlen (at most "));
    CHECK_THAT(r.output, !Catch::Contains("layer 1/4") && !Catch::Contains("Exception raised from"));
    CHECK_THAT(r.output, Catch::Contains("nothing was written to"));
    fs::remove(dir.string() + "_refused.log");
    CHECK(snapshot(dir) == before);  // no output, no staging folder, the model untouched
  }
}

TEST_CASE("a malformed QUANTFORGE_AVAILABLE_MEMORY is a clear error", "[cli][memory]") {
  const qf::test::TempDir tmp("cli_memory");
  const fs::path dir = copy_of_tiny_llama(tmp);
  const auto r = run("QUANTFORGE_AVAILABLE_MEMORY=lots " + kExe + " quantize " + dir.string() +
                     " --awq --num_samples 4 --seqlen 64 --threads 1 --log-file " + dir.string() + "_bad_env.log");
  CHECK(r.code == 1);
  CHECK_THAT(r.output,
             Catch::Contains("QUANTFORGE_AVAILABLE_MEMORY must be a byte count or a size such as 8G, got \"lots\""));
  fs::remove(dir.string() + "_bad_env.log");
}

TEST_CASE("an allocation failure during calibration is one clear message, not a backtrace", "[cli][memory]") {
  const qf::test::TempDir tmp("cli_memory");
  const fs::path dir = copy_of_tiny_llama(tmp);
  const std::string log = dir.string() + "_oom.log";
  // 1 GB of address space: enough for the program and a small plan, not for 512 x 2048 tokens.
  const std::string limited = "ulimit -v 1000000 && QUANTFORGE_AVAILABLE_MEMORY=1T " + kExe + " quantize " +
                              dir.string() + " --gptq --dataset bundled --threads 1 --log-file " + log;
  const auto small = run(limited + " --num_samples 4 --seqlen 64");
  if (small.code != 0) {
    WARN("this machine needs more than 1 GB of address space for a small run; skipped:\n" << small.output);
    return;
  }
  fs::remove_all(dir / "GPTQ_8bit_CPU");
  const auto before = snapshot(dir);
  const auto r = run(limited + " --num_samples 512 --seqlen 2048");
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("[error] out of memory during calibration (an allocation of ") &&
                           Catch::Contains(" failed): the calibration needs about ") &&
                           Catch::Contains(" at its peak (512 samples x 2048 tokens, hidden 256, intermediate 768") &&
                           Catch::Contains(
                               "was available when it started (QUANTFORGE_AVAILABLE_MEMORY): lower --num_samples (256 "
                               "need about "));
  CHECK_THAT(r.output, !Catch::Contains("Exception raised from") && !Catch::Contains("frame #") &&
                           !Catch::Contains("DefaultCPUAllocator"));
  CHECK(snapshot(dir) == before);
  fs::remove(log);
}
