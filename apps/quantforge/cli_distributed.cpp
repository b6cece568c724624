// `quantize`'s distributed options and `quantforge launch`.
#include "cli_distributed.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <chrono>
#include <thread>

#include "common/error.hpp"

namespace qf::cli {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int int_from(const std::string& text, const std::string& what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9)
    throw UsageError(what + " must be a non-negative integer, got \"" + text + "\"");
  return std::stoi(text);
}

// A TCP port nobody listens on now (the kernel's pick), for a launch's rendezvous.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("launch: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  if (port == 0) throw Error("launch: could not find a free TCP port; pass --port");
  return port;
}

volatile sig_atomic_t g_forwarded_signal = 0;
void remember_signal(int sig) { g_forwarded_signal = sig; }

}  // namespace

void add_distributed_options(po::options_description& desc) {
  desc.add_options()("world-size", po::value<int>(), "number of ranks of a distributed run (default: $WORLD_SIZE, 1)")(
      "rank", po::value<int>(), "this process's rank, 0..world-size-1 (default: $RANK); rank 0 writes the output")(
      "master", po::value<std::string>(), "HOST:PORT of rank 0's rendezvous (default: $MASTER_ADDR:$MASTER_PORT)")(
      "dist-timeout", po::value<int>()->default_value(600),
      "seconds a rank waits for the others before it stops with an error");
}

dist::DistributedOptions distributed_options(const po::variables_map& vm) {
  dist::DistributedOptions d;
  if (vm.count("world-size")) d.world_size = vm["world-size"].as<int>();
  else if (const char* w = env("WORLD_SIZE")) d.world_size = int_from(w, "$WORLD_SIZE");
  else if (const char* n = env("SLURM_NTASKS")) d.world_size = int_from(n, "$SLURM_NTASKS");
  if (vm.count("rank")) d.rank = vm["rank"].as<int>();
  else if (const char* r = env("RANK")) d.rank = int_from(r, "$RANK");
  else if (const char* s = env("SLURM_PROCID")) d.rank = int_from(s, "$SLURM_PROCID");
  else if (const char* k = env("JOB_COMPLETION_INDEX")) d.rank = int_from(k, "$JOB_COMPLETION_INDEX");
  if (vm.count("master")) {
    try {
      dist::parse_master(vm["master"].as<std::string>(), d.master_addr, d.master_port);
    } catch (const Error& e) {
      throw UsageError(e.what());
    }
  } else {
    if (const char* a = env("MASTER_ADDR")) d.master_addr = a;
    if (const char* p = env("MASTER_PORT")) d.master_port = int_from(p, "$MASTER_PORT");
  }
  const int timeout = vm["dist-timeout"].as<int>();
  if (timeout <= 0) throw UsageError("--dist-timeout must be a positive number of seconds");
  d.timeout = std::chrono::seconds(timeout);
  try {
    d.validate();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  return d;
}

int run_launch(const std::vector<std::string>& args) {
  int ranks = 0, port = 0;
  size_t i = 0;
  for (; i < args.size() && args[i] != "--"; ++i) {
    const std::string& a = args[i];
    if ((a == "-n" || a == "--nproc") && i + 1 < args.size()) ranks = int_from(args[++i], "-n");
    else if (a == "--port" && i + 1 < args.size()) port = int_from(args[++i], "--port");
    else if (a == "--help" || a == "-h") {
      std::cout << "quantforge launch -n N [--port P] -- quantize MODEL_DIR [options]\n"
                   "  starts N ranks of a distributed quantize run on this machine (127.0.0.1), each with\n"
                   "  its share of the cores unless --threads is given; rank 0 writes the output.\n";
      return kExitOk;
    } else {
      throw UsageError("launch: unknown option '" + a + "' (usage: quantforge launch -n N [--port P] -- quantize ...)");
    }
  }
  if (ranks < 1) throw UsageError("launch needs -n N, the number of ranks (at least 1)");
  if (i + 1 >= args.size() || args[i + 1] != "quantize")
    throw UsageError("launch runs `quantize`: quantforge launch -n N -- quantize MODEL_DIR [options]");
  std::vector<std::string> child(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  bool threads_given = false;
  for (const auto& a : child) threads_given = threads_given || a == "--threads" || a.rfind("--threads=", 0) == 0;
  if (!threads_given) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    child.push_back("--threads");
    child.push_back(std::to_string(std::max(1u, cores / static_cast<unsigned>(ranks))));
  }
  if (port == 0) port = free_port();

  std::vector<pid_t> pids;
  for (int r = 0; r < ranks; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("launch: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      ::setenv("WORLD_SIZE", std::to_string(ranks).c_str(), 1);
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> argv;
      std::error_code ec;  // the real path, so the ranks show as quantforge in ps and pkill
      std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
      if (ec || self.empty()) self = "/proc/self/exe";
      argv.push_back(self.data());
      for (auto& a : child) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(self.c_str(), argv.data());
      std::cerr << "quantforge launch: cannot start rank " << r << ": " << std::strerror(errno) << "\n";
      std::_Exit(127);
    }
    pids.push_back(pid);
  }
  // Ctrl-C reaches the ranks through the terminal's process group; SIGTERM to us is passed on.
  // Once one rank fails the others are asked to stop (SIGTERM: they abandon their staging), and
  // killed if they have not after a grace period (a rank waiting at the rendezvous cannot stop
  // before its timeout otherwise).
  struct sigaction sa{};
  sa.sa_handler = remember_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  constexpr auto kGrace = std::chrono::seconds(15);
  int exit_code = kExitOk;
  size_t running = pids.size();
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_sent;
  auto stop_all = [&] {
    if (stopping) return;
    for (pid_t p : pids)
      if (p > 0) ::kill(p, SIGTERM);
    stopping = true;
    stop_sent = std::chrono::steady_clock::now();
  };
  while (running > 0) {
    if (g_forwarded_signal) stop_all();
    if (stopping && std::chrono::steady_clock::now() - stop_sent > kGrace)
      for (pid_t p : pids)
        if (p > 0) ::kill(p, SIGKILL);
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done == 0 || (done < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (done < 0) break;
    --running;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    for (size_t r = 0; r < pids.size(); ++r)
      if (pids[r] == done) {
        pids[r] = -1;
        if (code != 0) {
          std::cerr << "quantforge launch: rank " << r << " exited with " << code
                    << (stopping ? "" : "; stopping the other ranks") << "\n";
          if (exit_code == kExitOk) exit_code = code;
          stop_all();
        }
      }
  }
  return exit_code;
}

}  // namespace qf::cli
