// Data-parallel calibration: 2 and 3 ranks (local processes over 127.0.0.1, one thread each) write
// what one process writes, byte for byte; a rank that dies ends the others with a clear error and
// nothing committed; ranks with different inputs are refused before any work; bad options are
// usage errors. And the block shares themselves.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "distributed/options.hpp"
#include "shell_run.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using qf::test::TempDir;

namespace {

const std::string kBin = std::string(QF_BINARY_DIR) + "/bin/quantforge";

fs::path tiny_model(const TempDir& dir) {
  const fs::path model = dir / "tiny-llama";
  fs::copy(std::string(QF_TEST_DATA_DIR) + "/models/tiny-llama", model, fs::copy_options::recursive);
  return model;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Whatever of ours lies in the temporary folder: worker ranks must leave nothing behind there.
std::set<std::string> rank_leftovers() {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    if (e.path().filename().string().find("quantforge-rank") != std::string::npos) out.insert(e.path().string());
  return out;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Two ranks started by hand (as on two machines), each with its own arguments and log.
struct TwoRanks {
  int code0 = -1, code1 = -1;
  std::string log0, log1;
  double seconds = 0;
};
TwoRanks run_two_ranks(const TempDir& tmp, const std::string& args0, const std::string& args1,
                       const std::string& env1 = "") {
  const std::string master = " --world-size 2 --master 127.0.0.1:" + std::to_string(free_port()) +
                             " --dist-timeout 30 --threads 1";
  const fs::path l0 = tmp / "rank0.log", l1 = tmp / "rank1.log", c1 = tmp / "rank1.code";
  const std::string script = "(" + env1 + " " + kBin + " " + args1 + master + " --rank 1 >" + l1.string() +
                             " 2>&1; echo $? >" + c1.string() + ") & " + kBin + " " + args0 + master + " --rank 0 >" +
                             l0.string() + " 2>&1; code=$?; wait; exit $code";
  const auto start = std::chrono::steady_clock::now();
  const auto r = qf::test::run_shell(script);
  TwoRanks out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.code0 = r.code;
  out.code1 = std::stoi(bytes_of(c1).empty() ? "-1" : bytes_of(c1));
  out.log0 = bytes_of(l0);
  out.log1 = bytes_of(l1);
  return out;
}

}  // namespace

TEST_CASE("block shares are contiguous, cover every block once and fall on granule boundaries", "[share]") {
  for (int64_t blocks : {1, 7, 12, 128}) {
    for (int64_t granule : {1, 4}) {
      for (int world = 1; world <= 5; ++world) {
        int64_t next = 0;
        for (int r = 0; r < world; ++r) {
          const auto s = qf::dist::block_share(blocks, granule, r, world);
          CHECK(s.begin == next);
          CHECK(s.end >= s.begin);
          if (s.end < blocks) CHECK(s.end % granule == 0);
          next = s.end;
        }
        CHECK(next == blocks);
      }
    }
  }
  const auto a = qf::dist::block_share(128, 1, 0, 3), b = qf::dist::block_share(128, 1, 2, 3);
  CHECK(a.end - a.begin == 42);
  CHECK(b.end - b.begin == 43);
  std::string addr;
  int port = 0;
  qf::dist::parse_master("10.1.2.3:29500", addr, port);
  CHECK(addr == "10.1.2.3");
  CHECK(port == 29500);
  qf::dist::parse_master("[::1]:1234", addr, port);
  CHECK(addr == "::1");
  CHECK_THROWS_WITH(qf::dist::parse_master("node7", addr, port), Catch::Contains("HOST:PORT"));
  CHECK_THROWS_WITH(qf::dist::parse_master("node7:http", addr, port), Catch::Contains("must be a number"));
}

TEST_CASE("2 and 3 ranks write what one process writes, byte for byte (GPTQ and AWQ)", "[distributed]") {
  const TempDir tmp("distributed_same");
  const fs::path model = tiny_model(tmp);
  const auto leftovers_before = rank_leftovers();
  for (const std::string method : {"--gptq --bits 4", "--awq"}) {
    INFO(method);
    const std::string args = "quantize " + model.string() + " " + method + " --num_samples 12 --seqlen 64";
    const auto one = qf::test::run_shell(kBin + " " + args + " --threads 1 --output " + (tmp / "one").string());
    REQUIRE(one.code == 0);
    const std::string reference = bytes_of(tmp / "one" / "model.safetensors");
    REQUIRE(reference.size() > 100000);
    for (int ranks : {2, 3}) {
      INFO(ranks << " ranks");
      const fs::path out = tmp / ("ranks" + std::to_string(ranks));
      const auto r = qf::test::run_shell(kBin + " launch -n " + std::to_string(ranks) + " -- " + args +
                                         " --dist-timeout 60 --output " + out.string());
      INFO(r.output);
      REQUIRE(r.code == 0);
      CHECK_THAT(r.output, Catch::Contains("[rank 1]") && Catch::Contains("all " + std::to_string(ranks) +
                                                                            " ranks connected"));
      CHECK(bytes_of(out / "model.safetensors") == reference);
      CHECK(bytes_of(out / "config.json") == bytes_of(tmp / "one" / "config.json"));
      fs::remove_all(out);
    }
    fs::remove_all(tmp / "one");
  }
  // Ranks other than 0 staged in private folders and removed them: no folder, lock or log is left.
  CHECK(rank_leftovers() == leftovers_before);
}

TEST_CASE("a rank that dies ends the others with a clear error, and nothing is committed", "[distributed]") {
  const TempDir tmp("distributed_kill");
  const fs::path model = tiny_model(tmp);
  const std::string args = "quantize " + model.string() + " --gptq --bits 4 --num_samples 8 --seqlen 64 --output " +
                           (tmp / "out").string();
  const auto r = run_two_ranks(tmp, args, args, "QUANTFORGE_TEST_KILL_AFTER_LAYER=1");
  INFO("rank 0:\n" << r.log0 << "\nrank 1:\n" << r.log1);
  CHECK(r.code1 == 128 + 9);  // SIGKILL, as the test asked
  CHECK(r.code0 == 1);
  CHECK_THAT(r.log0, Catch::Contains("failed on rank 0") && Catch::Contains("another rank stopped"));
  CHECK_THAT(r.log0, Catch::Contains("nothing was written"));
  CHECK(r.seconds < 60);
  CHECK_FALSE(fs::exists(tmp / "out"));
}

TEST_CASE("a rank that finds no others stops after the timeout, naming the address", "[distributed]") {
  const TempDir tmp("distributed_alone");
  const fs::path model = tiny_model(tmp);
  const std::string port = std::to_string(free_port());
  for (const std::string rank : {"0", "1"}) {  // the one that would serve the rendezvous, and a client
    INFO("rank " << rank);
    const auto start = std::chrono::steady_clock::now();
    const auto r = qf::test::run_shell(kBin + " quantize " + model.string() +
                                       " --gptq --num_samples 8 --seqlen 64 --threads 1 --world-size 2 --rank " + rank +
                                       " --master 127.0.0.1:" + port + " --dist-timeout 3 --output " +
                                       (tmp / "out").string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(r.code == 1);
    // Rank 0 serves the rendezvous, so it is the Gloo connection that times out there.
    CHECK_THAT(r.output, Catch::Contains("127.0.0.1:" + port) && Catch::Contains("within 3 s"));
    CHECK(seconds < 30);
    CHECK_FALSE(fs::exists(tmp / "out"));
  }
}

TEST_CASE("ranks given different inputs are refused at the start, on every rank", "[distributed]") {
  const TempDir tmp("distributed_mismatch");
  const fs::path model = tiny_model(tmp);
  const std::string base = "quantize " + model.string() + " --gptq --num_samples 8 --seqlen 64 --output " +
                           (tmp / "out").string();
  const auto leftovers_before = rank_leftovers();
  const auto r = run_two_ranks(tmp, base + " --bits 4", base + " --bits 8");
  CHECK(rank_leftovers() == leftovers_before);  // the refused worker removed its private folder
  INFO("rank 0:\n" << r.log0 << "\nrank 1:\n" << r.log1);
  CHECK(r.code0 == 1);
  CHECK(r.code1 == 1);
  CHECK_THAT(r.log0, Catch::Contains("has a different recipe and options"));
  CHECK_THAT(r.log1, Catch::Contains("has a different recipe and options"));
  CHECK_THAT(r.log0, !Catch::Contains("layer 1/"));
  CHECK_FALSE(fs::exists(tmp / "out"));
}

TEST_CASE("bad distributed options are usage errors; more ranks than blocks is a clear error", "[distributed]") {
  const TempDir tmp("distributed_usage");
  const fs::path model = tiny_model(tmp);
  const std::string q = kBin + " quantize " + model.string() + " --gptq --output " + (tmp / "out").string();
  auto r = qf::test::run_shell(q + " --world-size 2 --rank 2");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("--rank must be in [0, 2)"));
  r = qf::test::run_shell(q + " --world-size 2 --rank 0 --master nohost");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("HOST:PORT"));
  r = qf::test::run_shell("WORLD_SIZE=two " + q);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("$WORLD_SIZE must be a non-negative integer"));
  r = qf::test::run_shell(kBin + " launch -n 3 -- quantize " + model.string() +
                          " --gptq --num_samples 2 --seqlen 64 --dist-timeout 30 --output " + (tmp / "out").string());
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("calibration blocks leaves rank") && Catch::Contains("use at most 2 ranks"));
  CHECK_FALSE(fs::exists(tmp / "out"));
  r = qf::test::run_shell(kBin + " launch -n 2 -- convert " + model.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("launch runs `quantize`"));
}
