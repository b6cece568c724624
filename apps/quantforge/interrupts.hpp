#pragma once
// SIGINT, SIGTERM and SIGHUP (Ctrl-C, docker stop, timeout, Slurm, Kubernetes, a closed terminal)
// all stop a run the same way: the first one is announced at once and sets a flag the run polls
// (layer loops, search loops), so it stops within seconds and cleans up; a second one aborts at once
// after removing the staged output. Exit status 128 + signal, as shells expect.
#include <atomic>
#include <filesystem>
#include <functional>

namespace qf::cli {

// The flag every run polls; set by the first signal once an InterruptGuard is installed.
const std::atomic<bool>& interrupt_flag();

class InterruptGuard {
 public:
  // `on_abort` runs on a watcher thread when a second signal arrives, right before _exit: remove the
  // staging folder there (it must not touch objects the main thread is using).
  explicit InterruptGuard(std::function<void()> on_abort);
  ~InterruptGuard();  // restores the default dispositions
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  int signal_received() const;  // 0 when none
  int exit_code() const { return 128 + signal_received(); }
};

}  // namespace qf::cli
