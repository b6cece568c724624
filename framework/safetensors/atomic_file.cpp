#include "safetensors/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "common/error.hpp"

namespace qf::st::detail {
namespace fs = std::filesystem;

void write_all(int fd, const void* data, std::size_t n, const std::string& what) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error(what + ": write failed: " + std::strerror(errno));
    p += w;
    n -= std::size_t(w);
  }
}

int create_unique(const fs::path& base, fs::path& out_path, bool read_write) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%06x", (rd() ^ counter++) & 0xffffffu);
    fs::path p = base;
    p += std::string(".tmp-") + suffix;
    // O_EXCL: never clobber another writer's temp file; 0666 lets the umask decide, like a plain create.
    const int fd = ::open(p.c_str(), (read_write ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      out_path = p;
      return fd;
    }
    if (errno != EEXIST) throw Error(p.string() + ": cannot create: " + std::strerror(errno));
  }
  throw Error(base.string() + ": cannot find a free temporary name");
}

AtomicFile::AtomicFile(fs::path final_path) : final_(std::move(final_path)) { fd_ = create_unique(final_, tmp_); }

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t n) { write_all(fd_, data, n, final_.string()); }

void AtomicFile::copy_from(int src_fd, uint64_t offset, uint64_t n) {
  std::vector<char> buf(std::size_t(std::min<uint64_t>(n, 8u << 20)));  // bounded memory for any size
  while (n > 0) {
    const ssize_t r = ::pread(src_fd, buf.data(), std::size_t(std::min<uint64_t>(n, buf.size())), off_t(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error(final_.string() + ": reading the spool failed: " + (r < 0 ? std::strerror(errno) : "short file"));
    write(buf.data(), std::size_t(r));
    offset += uint64_t(r);
    n -= uint64_t(r);
  }
}

void AtomicFile::commit() {
  const std::string what = final_.string();
  if (::fsync(fd_) != 0) throw Error(what + ": fsync failed: " + std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw Error(what + ": close failed: " + std::strerror(errno));
  if (::rename(tmp_.c_str(), final_.c_str()) != 0) throw Error(what + ": rename failed: " + std::strerror(errno));
  tmp_.clear();
}

}  // namespace qf::st::detail
