// All-or-nothing output: staged files appear only on commit, as a set; a destination holding files
// we did not write is refused; one run per destination; leftovers of killed runs are cleaned up.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "host/output_manifest.hpp"
#include "host/output_transaction.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::host::OutputSetSpec;
using qf::host::OutputTransaction;

namespace {

using qf::test::TempDir;

std::vector<std::string> entries(const fs::path& d) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

OutputSetSpec folder_spec(const fs::path& dest) {
  OutputSetSpec s;
  s.destination = dest;
  return s;
}

}  // namespace

TEST_CASE("a bare relative destination stages in the working directory", "[output]") {
  TempDir root("relative");
  const fs::path cwd = fs::current_path();
  fs::current_path(root.path());
  {
    OutputTransaction tx("out", {});  // no parent path, and "out" does not exist yet
    write(tx.create("a.txt"), "a");
    tx.commit();
  }
  fs::current_path(cwd);
  CHECK(fs::exists(root.path() / "out" / "a.txt"));
  CHECK(entries(root.path()) == std::vector<std::string>{"out"});
}

TEST_CASE("commit moves staged files into place with a manifest; rollback leaves nothing", "[output]") {
  TempDir root("commit");
  {
    OutputTransaction tx(root.path() / "out", {});
    write(tx.create("a.txt"), "a");
    write(tx.create(".scratch/spool"), "tmp");
    CHECK_FALSE(fs::exists(root.path() / "out"));
    const auto files = tx.commit();
    CHECK(files.size() == 1);
  }
  CHECK(entries(root.path() / "out") == std::vector<std::string>{".quantforge-manifest.json", "a.txt"});
  CHECK(qf::host::read_manifest(root.path() / "out" / ".quantforge-manifest.json") == std::vector<std::string>{"a.txt"});
  CHECK(entries(root.path()) == std::vector<std::string>{"out"});  // no staging folder, no lock file
  {
    OutputTransaction tx(root.path() / "out2", {});
    write(tx.create("b.txt"), "b");
  }  // destroyed without commit
  CHECK(entries(root.path()) == std::vector<std::string>{"out"});
}

TEST_CASE("declared-but-unwritten, duplicate, escaping, reserved and protected names are errors", "[output]") {
  TempDir root("names");
  write(root.path() / "model.safetensors", "original");
  OutputSetSpec spec;  // in place: the set lives beside the model's own files
  spec.destination = root.path();
  spec.in_place_key = "X";
  spec.protected_files = {root.path() / "model.safetensors"};
  OutputTransaction tx(spec);
  CHECK_THROWS_WITH(tx.create("model.safetensors"), Catch::Contains("refusing to overwrite the original"));
  CHECK_THROWS_WITH(tx.create("../escape"), Catch::Contains("plain file name"));
  CHECK_THROWS_WITH(tx.create("quantize.log"), Catch::Contains("reserved"));
  tx.create("x.json");
  CHECK_THROWS_WITH(tx.create("x.json"), Catch::Contains("declared twice"));
  CHECK_THROWS_WITH(tx.commit(), Catch::Contains("never written"));
  tx.rollback();
  CHECK(read(root.path() / "model.safetensors") == "original");
}

TEST_CASE("a folder holding files we did not write is refused, named, and left as it was", "[output]") {
  TempDir root("foreign");
  const fs::path dest = root.path() / "out";
  fs::create_directories(dest);
  write(dest / "config.json", "{\"mine\": 1}");
  write(dest / "notes.txt", "keep me");
  CHECK_THROWS_WITH(OutputTransaction(folder_spec(dest)),
                    Catch::Contains("holds files quantforge did not write (config.json, notes.txt)") &&
                        Catch::Contains("--overwrite"));
  CHECK(read(dest / "config.json") == "{\"mine\": 1}");
  CHECK(entries(dest) == std::vector<std::string>{"config.json", "notes.txt"});
  CHECK(entries(root.path()) == std::vector<std::string>{"out"});  // no staging, no lock left behind

  OutputSetSpec spec = folder_spec(dest);
  spec.overwrite = true;  // replaces the folder as a whole
  {
    OutputTransaction tx(spec);
    write(tx.create("config.json"), "new");
    tx.commit();
  }
  CHECK(entries(dest) == std::vector<std::string>{".quantforge-manifest.json", "config.json"});
  CHECK(read(dest / "config.json") == "new");
}

TEST_CASE("a rerun replaces our earlier output set as a whole", "[output]") {
  TempDir root("rerun");
  const fs::path dest = root.path() / "out";
  {
    OutputTransaction tx(dest, {});
    for (const char* n : {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "index.json"})
      write(tx.create(n), "old");
    write(tx.log_path(), "[10:00:00] [info] old run\n");
    tx.commit();
  }
  {
    OutputTransaction tx(dest, {});
    write(tx.create("model.safetensors"), "new");
    tx.commit();
  }
  CHECK(entries(dest) == std::vector<std::string>{".quantforge-manifest.json", "model.safetensors"});

  write(dest / "user-notes.txt", "added by the user");  // now the folder is no longer only ours
  CHECK_THROWS_WITH(OutputTransaction(dest, {}), Catch::Contains("user-notes.txt"));
}

TEST_CASE("--overwrite never removes a folder that holds the model", "[output]") {
  TempDir root("contains_model");
  fs::create_directories(root.path() / "models" / "m");
  OutputSetSpec spec = folder_spec(root.path() / "models");
  spec.model_dir = root.path() / "models" / "m";
  spec.overwrite = true;
  CHECK_THROWS_WITH(OutputTransaction(spec), Catch::Contains("contains the model folder"));
  CHECK(fs::is_directory(root.path() / "models" / "m"));
}

TEST_CASE("one run per destination: a second one is refused with the first one's pid", "[output]") {
  TempDir root("lock");
  OutputTransaction first(root.path() / "out", {});
  CHECK_THROWS_WITH(OutputTransaction(root.path() / "out", {}),
                    Catch::Contains("another quantforge run (pid " + std::to_string(::getpid()) + ")"));
  OutputTransaction other(root.path() / "elsewhere", {});  // other destinations are independent
}

TEST_CASE("leftovers of killed runs are removed and reported; resume state is kept unless discarded", "[output]") {
  TempDir root("stale");
  const fs::path staging = root.path() / ".quantforge-staging-out";
  fs::create_directories(staging / "out");
  write(staging / "out" / "model.safetensors", std::string(4096, 'x'));
  {
    OutputTransaction tx(root.path() / "out", {});
    REQUIRE(tx.notices().size() == 1);
    CHECK_THAT(tx.notices()[0], Catch::Contains("removed the leftovers of an interrupted run"));
    CHECK_FALSE(tx.inherited_resume_state());
    CHECK_FALSE(fs::exists(staging / "out" / "model.safetensors"));
  }
  // The naming of earlier versions: .quantforge-staging-<pid>-<n>, removed when that pid is gone.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const fs::path legacy = root.path() / (".quantforge-staging-" + std::to_string(child) + "-42");
  fs::create_directories(legacy);
  {
    OutputTransaction tx(root.path() / "out", {});
    CHECK(fs::exists(staging / "resume"));
    write(tx.resume_dir() / "state.json", "{}");
    write(tx.log_path(), "[10:00:00] [info] layer 1/4 done\n");
    CHECK_FALSE(fs::exists(legacy));
    const auto left = tx.abandon(true);  // interrupted: the resume state stays, the log is kept apart
    CHECK(left.resume == staging);
    CHECK(left.log == root.path() / "quantize-failed-out.log");
  }
  CHECK(fs::exists(staging / "resume" / "state.json"));
  CHECK_FALSE(fs::exists(staging / "out" / "quantize.log"));
  {
    OutputTransaction tx(root.path() / "out", {});
    CHECK(tx.inherited_resume_state());
  }  // abandoned without keep: gone
  CHECK_FALSE(fs::exists(staging));
  fs::create_directories(staging / "resume");
  write(staging / "resume" / "state.json", "{}");
  OutputSetSpec spec = folder_spec(root.path() / "out");
  spec.keep_resume = false;  // --no-resume
  OutputTransaction tx(spec);
  CHECK_FALSE(tx.inherited_resume_state());
  CHECK_THAT(tx.notices().at(0), Catch::Contains("discarded the resume state"));
}

TEST_CASE("in place: the earlier set is replaced, the model's files untouched, a failed commit rolled back",
          "[output]") {
  TempDir root("in_place");
  const fs::path m = root.path();
  write(m / "model.safetensors", "original weights");
  write(m / "config.json", "{}");
  OutputSetSpec spec;
  spec.destination = m;
  spec.in_place_key = "AWQ";
  spec.protected_files = {m / "model.safetensors", m / "config.json"};
  spec.earlier_output_name = [](const std::string& n) { return n.find("-AWQ") != std::string::npos; };
  // An output of an earlier version: three shards and an index, no manifest.
  for (const char* n : {"model-00001-of-00003-AWQ.safetensors", "model-00002-of-00003-AWQ.safetensors",
                        "model-00003-of-00003-AWQ.safetensors", "model-AWQ.safetensors.index.json"})
    write(m / n, "old");
  {
    OutputTransaction tx(spec);
    write(tx.create("model-AWQ.safetensors"), "new");
    write(tx.create("model-AWQ.safetensors.index.json"), "new index");
    tx.commit();
  }
  CHECK(entries(m) == std::vector<std::string>{".quantforge-manifest-AWQ.json", "config.json", "model-AWQ.safetensors",
                                               "model-AWQ.safetensors.index.json", "model.safetensors"});
  CHECK(read(m / "model.safetensors") == "original weights");

  // A move that fails part-way (the target name is taken by a folder) puts everything back.
  fs::create_directories(m / "model-00001-of-00002-AWQ.safetensors");
  const auto before = entries(m);
  {
    OutputTransaction tx(spec);
    write(tx.create("model-00002-of-00002-AWQ.safetensors"), "b");
    write(tx.create("model-00001-of-00002-AWQ.safetensors"), "a");
    write(tx.create("model-AWQ.safetensors.index.json"), "index");
    CHECK_THROWS_WITH(tx.commit(), Catch::Contains("back as it was"));
  }
  CHECK(entries(m) == before);
  CHECK(read(m / "model-AWQ.safetensors") == "new");
  CHECK(read(m / "model-AWQ.safetensors.index.json") == "new index");
  fs::remove(m / "model-00001-of-00002-AWQ.safetensors");

  write(m / "quantize.log", "my own notes");  // not a log of ours: never replaced
  spec.protected_files.insert(m / "quantize.log");
  CHECK_THROWS_WITH(OutputTransaction(spec), Catch::Contains("quantize.log was not written by quantforge"));
  CHECK(read(m / "quantize.log") == "my own notes");
}

TEST_CASE("a destination we cannot write is refused before any work, saying why", "[output]") {
  TempDir root("unwritable");
  fs::permissions(root.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  if (child == 0) {  // root writes anywhere: check as an unprivileged user
    ::close(fds[0]);
    if (::getuid() == 0 && ::setuid(65534) != 0) ::_exit(3);
    std::string message = "no error";
    try {
      OutputTransaction tx(root.path() / "out", {});
    } catch (const qf::Error& e) {
      message = e.what();
    }
    [[maybe_unused]] auto n = ::write(fds[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK_THAT(message, Catch::Contains("cannot create output folder " + (root.path() / "out").string()) &&
                          Catch::Contains("Permission denied"));
  CHECK(entries(root.path()).empty());
}

TEST_CASE("not enough free space for the staged output is refused up front", "[output]") {
  TempDir root("space");
  OutputTransaction tx(root.path() / "out", {});
  ::setenv("QUANTFORGE_TEST_FREE_BYTES", "1048576", 1);
  CHECK_THROWS_WITH(tx.require_free_space(3u << 20, "staged shards"),
                    Catch::Contains("not enough free space") && Catch::Contains("needs about 3 MiB (staged shards)") &&
                        Catch::Contains("1 MiB are free"));
  CHECK_NOTHROW(tx.require_free_space(1u << 20, "staged shards"));
  ::unsetenv("QUANTFORGE_TEST_FREE_BYTES");
}

TEST_CASE("only empty files and our own logs count as logs of ours", "[output]") {
  TempDir root("logs");
  write(root.path() / "empty.log", "");
  write(root.path() / "ours.log", "[12:34:56] [info] quantizing x\n");
  write(root.path() / "config.json", "{\"a\": 1}\n");
  write(root.path() / "weights.safetensors", std::string("\x10\0\0\0\0\0\0\0{}", 10));
  CHECK(qf::host::looks_like_our_log(root.path() / "empty.log"));
  CHECK(qf::host::looks_like_our_log(root.path() / "ours.log"));
  CHECK_FALSE(qf::host::looks_like_our_log(root.path() / "config.json"));
  CHECK_FALSE(qf::host::looks_like_our_log(root.path() / "weights.safetensors"));
  CHECK_FALSE(qf::host::looks_like_our_log(root.path() / "missing.log"));
}
