#pragma once
// One run at a time per destination: an advisory lock (flock) on a small file beside the output.
// The kernel drops the lock when its process dies (SIGKILL, OOM killer), so a stale lock file never
// blocks the next run; whoever holds the lock may also treat leftovers of the same destination as
// abandoned.
#include <filesystem>
#include <string>

namespace qf::host {

class DestinationLock {
 public:
  // Takes the lock at `path` (created if missing) or throws qf::Error naming the destination
  // `what` and the pid that holds it. Never waits.
  DestinationLock(std::filesystem::path path, const std::string& what);
  ~DestinationLock();  // removes the file, then drops the lock
  DestinationLock(const DestinationLock&) = delete;
  DestinationLock& operator=(const DestinationLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace qf::host
