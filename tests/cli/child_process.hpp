#pragma once
// Runs the quantforge executable as a real child process, reading its output as it comes, so tests
// can send signals at a known point of a run (after "layer 1/4 done", say) and check what it did.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace qf::test {

class ChildProcess {
 public:
  // `env`: extra NAME=VALUE entries for the child.
  explicit ChildProcess(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      ::setpgid(0, 0);  // its own group: a test's signal never reaches ctest
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      const std::string exe = std::string(QF_BINARY_DIR) + "/bin/quantforge";
      std::vector<char*> argv{const_cast<char*>(exe.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads output until it contains `text` (true) or the child closes its output / the timeout passes.
  bool wait_for(const std::string& text, int timeout_s = 600) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (output_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return output_.find(text) != std::string::npos;
    }
    return true;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits until the child stops itself (SIGSTOP); false when it exited instead. Its output so far
  // must fit the pipe (64 KiB), which a few layers' log lines do.
  bool wait_stopped() {
    int status = 0;
    if (::waitpid(pid_, &status, WUNTRACED) != pid_) return false;
    if (WIFSTOPPED(status)) return true;
    exited_ = true;
    return false;
  }
  // Waits for the exit; returns the exit status, or 128 + signal when a signal killed it.
  int wait() {
    while (read_some(-1)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  bool read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return false;
    output_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string output_;
};

// Runs to completion and returns {exit code, output}.
inline std::pair<int, std::string> run_quantforge(const std::vector<std::string>& args,
                                                  const std::vector<std::string>& env = {}) {
  ChildProcess p(args, env);
  const int code = p.wait();
  return {code, p.output()};
}

}  // namespace qf::test
