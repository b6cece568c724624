#pragma once
// Internal: write a file under `<path>.tmp-XXXXXX` and rename it onto `path` only when complete,
// so an error or crash never leaves a partial file at the final path.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace qf::st::detail {

// write(2) all of `n` bytes, retrying short writes; throws qf::Error naming `what` on failure.
void write_all(int fd, const void* data, std::size_t n, const std::string& what);

// Creates `<base>.tmp-XXXXXX` exclusively (mode 0666 minus umask); returns the fd and sets out_path.
int create_unique(const std::filesystem::path& base, std::filesystem::path& out_path, bool read_write = false);

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path);
  ~AtomicFile();  // removes the temporary file unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t n);
  // Copies `n` bytes starting at `offset` of `src_fd` (e.g. a spool) into this file.
  void copy_from(int src_fd, uint64_t offset, uint64_t n);
  void commit();  // fsync, close, rename onto the final path

 private:
  std::filesystem::path final_;
  std::filesystem::path tmp_;
  int fd_ = -1;
};

}  // namespace qf::st::detail
