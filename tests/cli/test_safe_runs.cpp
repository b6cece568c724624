// Runs users can trust, checked on real child processes of the quantforge executable: outputs are
// never mixed or clobbered, every stop (signal, failure, kill) is handled and said, one run per
// destination, and a killed run resumes to output bit-identical to an uninterrupted one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "child_process.hpp"
#include "folder_checks.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::test::ChildProcess;
using qf::test::run_quantforge;
using qf::test::check_same_output;
using qf::test::copy_model;
using qf::test::has_hidden_leftovers;
using qf::test::read;
using qf::test::snapshot;

namespace {

using qf::test::TempDir;

std::string heldout() { return (fs::path(QF_TEST_DATA_DIR) / "text" / "heldout.txt").string(); }

// GPTQ on the tiny model with a small calibration set: a few seconds a layer.
std::vector<std::string> gptq_args(const fs::path& model, int samples = 4) {
  return {"quantize", model.string(), "--gptq", "--dataset", heldout(), "--num_samples", std::to_string(samples),
          "--seqlen", "64", "--threads", "1"};
}

}  // namespace

TEST_CASE("--output into a folder we did not write is refused; --overwrite replaces it as a whole", "[cli][safe]") {
  TempDir t("output");
  const fs::path m = copy_model(t), out = t.path() / "out";
  fs::create_directories(out);
  std::ofstream(out / "config.json") << "{\"another\": \"model\"}";
  std::ofstream(out / "model-00001-of-00003.safetensors") << "old shard";
  const auto before = snapshot(out);
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--output", out.string()});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("holds files quantforge did not write (config.json, model-00001-of-00003.safetensors)"));
  CHECK(snapshot(out) == before);
  CHECK(std::count_if(fs::directory_iterator(t.path()), fs::directory_iterator(), [](auto&) { return true; }) == 2);

  std::tie(code, output) =
      run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--output", out.string(), "--overwrite"});
  REQUIRE(code == 0);
  CHECK_FALSE(fs::exists(out / "model-00001-of-00003.safetensors"));
  CHECK_THAT(read(out / "config.json"), Catch::Contains("quantization_config") && Catch::Contains("LlamaForCausalLM"));
  CHECK_FALSE(has_hidden_leftovers(t.path()));
}

TEST_CASE("a rerun replaces the earlier output set as a whole (subdirectory and in place)", "[cli][safe]") {
  TempDir t("rerun");
  const fs::path m = copy_model(t);
  const auto model_files = snapshot(m);
  REQUIRE(run_quantforge({"quantize", m.string(), "--recipe", "rtn"}).first == 0);
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--group_size", "64"});
  REQUIRE(code == 0);
  const fs::path sub = m / "RTN_4bit_CPU";
  CHECK_THAT(read(sub / "config.json"), Catch::Contains("\"group_size\": 64"));
  for (const auto& e : fs::directory_iterator(sub)) {  // every file belongs to the new set
    const std::string name = e.path().filename().string();
    if (name != ".quantforge-manifest.json")
      CHECK_THAT(read(sub / ".quantforge-manifest.json"), Catch::Contains("\"" + name + "\""));
  }

  // In place, with the shard count changing between runs: no shard of the first run survives.
  auto recipe = [&](const std::string& name, const std::string& shard) {
    const fs::path r = t.path() / (name + ".toml");
    std::ofstream(r) << "name = \"" << name << "\"\n[method]\nplugin = \"rtn\"\n[[formats]]\nplugin = \"safetensors_writer\"\n"
                     << "[formats.options]\nmax_shard_size = \"" << shard << "\"\n[[formats]]\nplugin = \"index_writer\"\n"
                     << "[layout]\npolicy = \"in_place\"\nsuffix = \"-RTN\"\nquant_config_file = \"quant_config-RTN.json\"\n"
                     << "always_write_index = true\n";
    return r.string();
  };
  REQUIRE(run_quantforge({"quantize", m.string(), "--recipe", recipe("small", "2MB")}).first == 0);
  CHECK(fs::exists(m / "model-00001-of-00003-RTN.safetensors"));
  const std::string good_log = read(m / "quantize.log");
  REQUIRE(run_quantforge({"quantize", m.string(), "--recipe", recipe("big", "5GB")}).first == 0);
  CHECK_FALSE(fs::exists(m / "model-00001-of-00003-RTN.safetensors"));
  CHECK_FALSE(fs::exists(m / "model-00003-of-00003-RTN.safetensors"));
  CHECK(fs::exists(m / "model-RTN.safetensors"));
  CHECK_THAT(read(m / "model-RTN.safetensors.index.json"), !Catch::Contains("of-00003"));
  for (const auto& [name, bytes] : model_files) CHECK(read(m / name) == bytes);  // the model's own files

  // A failed in-place rerun keeps the earlier good run's log and says where its own log is.
  const std::string second_log = read(m / "quantize.log");
  CHECK(second_log != good_log);
  std::tie(code, output) = run_quantforge({"quantize", m.string(), "--recipe", recipe("bad", "5GB"), "--bits", "5"});
  CHECK(code == 1);
  CHECK(read(m / "quantize.log") == second_log);
  CHECK_THAT(output, Catch::Contains("this run's log is kept at " + (m / "quantize-failed-RTN.log").string()));
  CHECK_THAT(read(m / "quantize-failed-RTN.log"), Catch::Contains("bits"));
  CHECK_FALSE(has_hidden_leftovers(m));
}

TEST_CASE("a failed run creates no output folder; --log-file never truncates a file that is not our log",
          "[cli][safe]") {
  TempDir t("failed");
  const fs::path m = copy_model(t);
  const auto model_files = snapshot(m);
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--bits", "-1"});
  CHECK(code != 0);
  CHECK_FALSE(fs::exists(m / "RTN_-1bit_CPU"));
  CHECK_FALSE(has_hidden_leftovers(m));

  const std::string shard = "model-00001-of-00002.safetensors";
  std::tie(code, output) =
      run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--log-file", (m / shard).string()});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("refusing to use --log-file") && Catch::Contains("not a quantforge log"));
  CHECK_THAT(output, !Catch::Contains("untouched"));
  for (const auto& [name, bytes] : model_files) CHECK(read(m / name) == bytes);
  CHECK_FALSE(fs::exists(m / "RTN_4bit_CPU"));

  // A log of ours is appended to, not truncated.
  const fs::path log = t.path() / "run.log";
  std::ofstream(log) << "[01:02:03] [info] an earlier run\n";
  REQUIRE(run_quantforge({"quantize", m.string(), "--recipe", "rtn", "--log-file", log.string()}).first == 0);
  CHECK_THAT(read(log), Catch::StartsWith("[01:02:03] [info] an earlier run") && Catch::Contains("done in"));
}

TEST_CASE("not enough disk space is refused before any work", "[cli][safe]") {
  TempDir t("space");
  const fs::path m = copy_model(t);
  const auto before = snapshot(m);
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn"}, {"QUANTFORGE_TEST_FREE_BYTES=1000"});
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("not enough free space on " + m.string()) && Catch::Contains("--output"));
  CHECK(snapshot(m) == before);
}

TEST_CASE("leftovers of a killed run without resume state are removed and reported", "[cli][safe]") {
  TempDir t("leftovers");
  const fs::path m = copy_model(t);
  fs::create_directories(m / ".quantforge-staging-RTN_4bit_CPU" / "out");
  std::ofstream(m / ".quantforge-staging-RTN_4bit_CPU" / "out" / "model.safetensors") << std::string(1 << 20, 'x');
  auto [code, output] = run_quantforge({"quantize", m.string(), "--recipe", "rtn"});
  REQUIRE(code == 0);
  CHECK_THAT(output, Catch::Contains("removed the leftovers of an interrupted run"));
  CHECK_FALSE(has_hidden_leftovers(m));
}

TEST_CASE("SIGTERM, SIGHUP and SIGINT stop a run cleanly, say so, exit 128+signal and keep the resume state",
          "[cli][safe][signals]") {
  TempDir t("signals");
  const fs::path reference = copy_model(t, "reference");
  REQUIRE(run_quantforge(gptq_args(reference)).first == 0);
  for (int sig : {SIGTERM, SIGHUP, SIGINT}) {
    INFO("signal " << sig);
    const fs::path m = copy_model(t, "m" + std::to_string(sig));
    ChildProcess run(gptq_args(m), {"QUANTFORGE_TEST_STOP_AFTER_LAYER=0"});
    REQUIRE(run.wait_stopped());  // held after layer 0: the signal cannot arrive after the run ended
    run.signal(sig);
    run.signal(SIGCONT);
    const int code = run.wait();
    CHECK(code == 128 + sig);
    CHECK_THAT(run.output(), Catch::Contains("interrupt received") && Catch::Contains("stopped by") &&
                                 Catch::Contains("run the same command again to resume"));
    CHECK_FALSE(fs::exists(m / "GPTQ_8bit_CPU"));
    CHECK(fs::exists(m / ".quantforge-staging-GPTQ_8bit_CPU" / "resume" / "state.json"));
    CHECK_FALSE(fs::exists(m / ".quantforge-staging-GPTQ_8bit_CPU" / "out"));
    if (sig == SIGTERM) {  // the preempted job, requeued: continues and ends where an uninterrupted run ends
      auto [again, output] = run_quantforge(gptq_args(m));
      REQUIRE(again == 0);
      CHECK_THAT(output, Catch::Contains("resuming an interrupted run"));
      check_same_output(reference / "GPTQ_8bit_CPU", m / "GPTQ_8bit_CPU");
      CHECK_FALSE(has_hidden_leftovers(m));
    }
  }
}

TEST_CASE("a second interrupt aborts at once and still removes the staged output", "[cli][safe][signals]") {
  TempDir t("abort");
  const fs::path m = copy_model(t);
  ChildProcess run(gptq_args(m), {"QUANTFORGE_TEST_STOP_AFTER_LAYER=0"});
  REQUIRE(run.wait_stopped());
  // Ctrl-C, then docker stop, both pending when the run goes on. (Two identical signals would merge
  // into one in the kernel, so the test uses two different ones to be sure both arrive.)
  run.signal(SIGINT);
  run.signal(SIGTERM);
  run.signal(SIGCONT);
  const int code = run.wait();  // the kernel may deliver the two in either order
  CHECK((code == 128 + SIGINT || code == 128 + SIGTERM));
  CHECK_THAT(run.output(), Catch::Contains("aborting now"));
  CHECK_FALSE(fs::exists(m / "GPTQ_8bit_CPU"));
  CHECK_FALSE(has_hidden_leftovers(m));
}

TEST_CASE("one run per destination: a second run is refused with the first one's pid", "[cli][safe]") {
  TempDir t("concurrent");
  const fs::path m = copy_model(t);
  // The first run stops itself after layer 0 and holds its claim on the destination until we let
  // it go on (a tiny model finishes faster than a second process starts, so waiting for a log line
  // would race it).
  ChildProcess first(gptq_args(m), {"QUANTFORGE_TEST_STOP_AFTER_LAYER=0"});
  REQUIRE(first.wait_stopped());
  auto [code, output] = run_quantforge(gptq_args(m));
  first.signal(SIGCONT);
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("another quantforge run (pid " + std::to_string(first.pid()) + ")"));
  CHECK(first.wait() == 0);
  CHECK(fs::exists(m / "GPTQ_8bit_CPU" / "model.safetensors"));
  CHECK_FALSE(has_hidden_leftovers(m));
}

TEST_CASE("a run killed with SIGKILL after any layer resumes to bit-identical output", "[cli][safe][resume]") {
  TempDir t("resume");
  const fs::path reference = copy_model(t, "reference");
  REQUIRE(run_quantforge(gptq_args(reference)).first == 0);
  for (int layer : {0, 1, 2}) {
    INFO("killed after layer " << layer);
    const fs::path m = copy_model(t, "m" + std::to_string(layer));
    auto [code, output] = run_quantforge(gptq_args(m), {"QUANTFORGE_TEST_KILL_AFTER_LAYER=" + std::to_string(layer)});
    REQUIRE(code == 128 + SIGKILL);
    CHECK_FALSE(fs::exists(m / "GPTQ_8bit_CPU"));
    std::tie(code, output) = run_quantforge(gptq_args(m));
    REQUIRE(code == 0);
    CHECK_THAT(output, Catch::Contains(std::to_string(layer + 1) + " of 4 layers were finished"));
    check_same_output(reference / "GPTQ_8bit_CPU", m / "GPTQ_8bit_CPU");
    CHECK_FALSE(has_hidden_leftovers(m));
  }
  // Without calibration (RTN) the same holds.
  REQUIRE(run_quantforge({"quantize", reference.string(), "--recipe", "rtn"}).first == 0);
  const fs::path r = copy_model(t, "rtn");
  CHECK(run_quantforge({"quantize", r.string(), "--recipe", "rtn"}, {"QUANTFORGE_TEST_KILL_AFTER_LAYER=1"}).first ==
        128 + SIGKILL);
  REQUIRE(run_quantforge({"quantize", r.string(), "--recipe", "rtn"}).first == 0);
  check_same_output(reference / "RTN_4bit_CPU", r / "RTN_4bit_CPU");
}

TEST_CASE("a resume whose inputs changed is refused naming what changed; --no-resume starts over", "[cli][safe][resume]") {
  TempDir t("mismatch");
  const fs::path m = copy_model(t);
  REQUIRE(run_quantforge(gptq_args(m), {"QUANTFORGE_TEST_KILL_AFTER_LAYER=1"}).first == 128 + SIGKILL);
  auto [code, output] = run_quantforge(gptq_args(m, 6));
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("cannot resume the interrupted run") && Catch::Contains("calibration data") &&
                         Catch::Contains("--no-resume"));
  CHECK(fs::exists(m / ".quantforge-staging-GPTQ_8bit_CPU" / "resume" / "state.json"));  // still there
  auto args = gptq_args(m, 6);
  args.push_back("--no-resume");
  std::tie(code, output) = run_quantforge(args);
  REQUIRE(code == 0);
  CHECK_THAT(output, Catch::Contains("discarded the resume state"));
  CHECK_FALSE(has_hidden_leftovers(m));
}

TEST_CASE("an interrupt stops AWQ inside a layer's search, not at its end", "[cli][safe][signals]") {
  TempDir t("awq_stop");
  const fs::path m = copy_model(t);
  // Layers of ~2 s (32 x 256 tokens, one thread): the signal must land inside layer 2 however late this
  // process gets to send it on a loaded machine (with 8 x 128 tokens a layer took 0.4 s).
  ChildProcess run({"quantize", m.string(), "--awq", "--dataset", heldout(), "--num_samples", "32", "--seqlen",
                    "256", "--threads", "1"});
  REQUIRE(run.wait_for("layer 1/4 done"));
  run.signal(SIGINT);
  CHECK(run.wait() == 130);
  // Without the checks in the search loops the run would finish layer 2 before noticing.
  CHECK_THAT(run.output(), Catch::Contains("interrupt received") && !Catch::Contains("layer 2/4 done"));
  CHECK_FALSE(fs::exists(m / "model-AWQ.safetensors"));
  CHECK(fs::exists(m / ".quantforge-staging-AWQ" / "resume" / "state.json"));
}
