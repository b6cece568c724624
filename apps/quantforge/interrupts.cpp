#include "interrupts.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <string.h>
#include <unistd.h>

#include <thread>

namespace qf::cli {
namespace {

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
int g_pipe[2] = {-1, -1};
std::function<void()> g_on_abort;
std::thread g_watcher;

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Only async-signal-safe work here: the flags, and one byte to wake the watcher thread. Any thread
// may run it (OpenBLAS and LibTorch start threads that do not block signals).
extern "C" void on_signal(int sig) {
  const int saved = errno;
  g_signal.store(sig);
  g_cancel.store(true);
  g_count.fetch_add(1);
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

void watch() {
  unsigned char byte = 0;
  int seen = 0;
  while (::read(g_pipe[0], &byte, 1) == 1) {
    if (byte == 0) return;  // shutdown
    const int sig = byte;
    if (++seen == 1) {
      spdlog::warn("interrupt received ({}), stopping after the current step; send it again to abort at once",
                   ::strsignal(sig));
      continue;
    }
    spdlog::error("second interrupt ({}): aborting now, removing the staged output", ::strsignal(sig));
    if (g_on_abort) g_on_abort();
    spdlog::shutdown();
    ::_exit(128 + sig);
  }
}

}  // namespace

InterruptGuard::InterruptGuard(std::function<void()> on_abort) {
  g_on_abort = std::move(on_abort);
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) g_pipe[0] = g_pipe[1] = -1;
  g_watcher = std::thread(watch);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : kSignals) ::sigaction(sig, &sa, nullptr);
}

InterruptGuard::~InterruptGuard() {
  for (int sig : kSignals) ::signal(sig, SIG_DFL);
  const unsigned char stop = 0;
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &stop, 1);
  if (g_watcher.joinable()) g_watcher.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_on_abort = nullptr;
}

const std::atomic<bool>& interrupt_flag() { return g_cancel; }
int InterruptGuard::signal_received() const { return g_signal.load(); }

}  // namespace qf::cli
