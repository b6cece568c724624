#include "host/destination_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.hpp"

namespace qf::host {
namespace {

std::string read_holder(int fd) {
  char buf[64] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown" : s;
}

// True when `fd` still is the file at `path`: a previous holder may have unlinked it between our
// open and our flock, and a lock on an unlinked file excludes nobody.
bool still_linked(int fd, const std::filesystem::path& path) {
  struct stat by_fd {}, by_path {};
  if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0) return false;
  return by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev;
}

}  // namespace

DestinationLock::DestinationLock(std::filesystem::path path, const std::string& what) : path_(std::move(path)) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error("cannot create output folder " + what + ": " + std::strerror(errno) + " (while creating " +
                  path_.string() + ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const std::string holder = read_holder(fd_);
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK)
        throw Error("another quantforge run (pid " + holder + ") is writing " + what +
                    "; wait for it to finish or stop it first");
      throw Error("cannot lock " + path_.string() + ": " + std::strerror(err));
    }
    if (still_linked(fd_, path_)) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // The pid is only informative for the run we exclude; the lock itself holds.
      }
      return;
    }
    ::close(fd_);
    fd_ = -1;
  }
  throw Error("cannot lock " + path_.string() + ": it keeps being replaced by another process");
}

DestinationLock::~DestinationLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // before unlocking, so a waiter never locks a file we are about to remove
  ::close(fd_);
}

}  // namespace qf::host
