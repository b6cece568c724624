// Writing a file so that it appears complete or not at all: the bytes go to `<path>.tmp-XXXXXX` in
// the same folder (so the rename cannot cross file systems), which is fsynced and renamed onto
// `path` by commit(); destroying the object without commit() removes the temporary file. POSIX.
//
//   qf::sdk::AtomicFile f(path);
//   f.write(text.data(), text.size());
//   f.commit();                       // any throw before this leaves nothing at `path`
//
// Failures throw PluginError(QF_ERR_IO) naming the file and the system's reason.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quantforge/errors.hpp"

namespace qf::sdk {

[[noreturn]] inline void throw_io(const std::string& what) { throw PluginError(QF_ERR_IO, what); }

// write(2) all of `n` bytes, retrying short writes and EINTR; `what` names the file in the message.
inline void write_all(int fd, const void* data, std::size_t n, const std::string& what) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw_io(what + ": write failed: " + std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Creates `<base>.tmp-XXXXXX` exclusively (mode 0666 minus umask) and returns its fd; sets out_path.
inline int create_unique(const std::string& base, std::string& out_path, bool read_write = false) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%06x", (rd() ^ counter++) & 0xffffffu);
    const std::string p = base + ".tmp-" + suffix;
    // O_EXCL: never clobber another writer's temp file; 0666 lets the umask decide, like a plain create.
    const int fd = ::open(p.c_str(), (read_write ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      out_path = p;
      return fd;
    }
    if (errno != EEXIST) throw_io(p + ": cannot create: " + std::strerror(errno));
  }
  throw_io(base + ": cannot find a free temporary name");
}

class AtomicFile {
 public:
  explicit AtomicFile(std::string final_path) : final_(std::move(final_path)) { fd_ = create_unique(final_, tmp_); }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t n) { write_all(fd_, data, n, final_); }

  // Copies `n` bytes starting at `offset` of `src_fd` (e.g. a spool) into this file.
  void copy_from(int src_fd, uint64_t offset, uint64_t n) {
    std::vector<char> buf(static_cast<std::size_t>(std::min<uint64_t>(n, 8u << 20)));  // bounded memory
    while (n > 0) {
      const ssize_t r = ::pread(src_fd, buf.data(), static_cast<std::size_t>(std::min<uint64_t>(n, buf.size())),
                                static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw_io(final_ + ": reading the spool failed: " + (r < 0 ? std::strerror(errno) : "short file"));
      write(buf.data(), static_cast<std::size_t>(r));
      offset += static_cast<uint64_t>(r);
      n -= static_cast<uint64_t>(r);
    }
  }

  // fsync (the data is on disk before the name points at it), close, rename onto the final path.
  void commit() {
    if (::fsync(fd_) != 0) throw_io(final_ + ": fsync failed: " + std::strerror(errno));
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) throw_io(final_ + ": close failed: " + std::strerror(errno));
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) throw_io(final_ + ": rename failed: " + std::strerror(errno));
    tmp_.clear();
  }

  const std::string& temp_path() const { return tmp_; }

 private:
  std::string final_;
  std::string tmp_;
  int fd_ = -1;
};

// The whole of `text` at `path`, atomically.
inline void write_file_atomically(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace qf::sdk
