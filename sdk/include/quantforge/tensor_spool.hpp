// A format plugin's holding area for tensors that arrive before their file can be written: each
// tensor's bytes go to a scratch file at once (the caller's buffer may go away, the model never
// sits in memory) and are read back by name when the file is written.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "quantforge/atomic_file.hpp"
#include "quantforge/safetensors_dtype.hpp"

namespace qf::sdk {

class TensorSpool {
 public:
  struct Entry {
    std::string name;
    st::DType dtype;
    std::vector<int64_t> shape;
    uint64_t offset;  // in the spool
    uint64_t nbytes;
  };

  // `path`: a Session::create_scratch file; created or truncated, and unlinked at once (the open
  // file lives on and the kernel frees it even if the process dies).
  explicit TensorSpool(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw_io(path + ": cannot create the spool: " + std::strerror(errno));
    ::unlink(path.c_str());
  }
  ~TensorSpool() {
    if (fd_ >= 0) ::close(fd_);
  }
  TensorSpool(const TensorSpool&) = delete;
  TensorSpool& operator=(const TensorSpool&) = delete;

  // Copies a CPU, compact tensor in; a second tensor of the same name is an error.
  void add(const std::string& name, const DLTensor& t) {
    const st::TensorBytes b = st::tensor_bytes(name, t);
    add(name, b.dtype, b.shape, b.data, b.nbytes, "spool");
  }
  // Copies `nbytes` raw bytes in (the caller checked them against dtype x shape); `what` starts
  // the messages.
  void add(const std::string& name, st::DType dtype, const std::vector<int64_t>& shape, const void* data,
           std::size_t nbytes, const std::string& what) {
    if (by_name_.count(name)) throw std::invalid_argument(what + ": tensor '" + name + "' is added twice");
    // Position explicitly: a failed partial write must not shift later tensors.
    if (::lseek(fd_, static_cast<off_t>(size_), SEEK_SET) < 0)
      throw_io(what + ": spool seek failed: " + std::strerror(errno));
    write_all(fd_, data, nbytes, what + ": spooling tensor '" + name + "'");
    by_name_.emplace(name, entries_.size());
    entries_.push_back({name, dtype, shape, size_, nbytes});
    size_ += nbytes;
  }
  uint64_t total_bytes() const { return size_; }

  bool has(const std::string& name) const { return by_name_.count(name) != 0; }
  const Entry& entry(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw std::invalid_argument("tensor '" + name + "' never arrived");
    return entries_[it->second];
  }
  const std::vector<Entry>& entries() const { return entries_; }  // in arrival order

  // The bytes of `name`, read back from the spool.
  std::vector<uint8_t> bytes(const std::string& name) const {
    const Entry& e = entry(name);
    std::vector<uint8_t> out(e.nbytes);
    uint64_t done = 0;
    while (done < e.nbytes) {
      const ssize_t r = ::pread(fd_, out.data() + done, e.nbytes - done, static_cast<off_t>(e.offset + done));
      if (r <= 0) throw_io("reading tensor '" + name + "' back from the spool failed");
      done += static_cast<uint64_t>(r);
    }
    return out;
  }
  template <class T>
  std::vector<T> values(const std::string& name) const {
    const std::vector<uint8_t> b = bytes(name);
    if (b.size() % sizeof(T) != 0) throw std::invalid_argument("tensor '" + name + "' has a size that is not whole elements");
    std::vector<T> out(b.size() / sizeof(T));
    if (!b.empty()) std::memcpy(out.data(), b.data(), b.size());
    return out;
  }
  // Streams `name`'s bytes into an output file without holding them.
  void copy_to(AtomicFile& file, const std::string& name) const { copy_to(file, entry(name)); }
  void copy_to(AtomicFile& file, const Entry& e) const { file.copy_from(fd_, e.offset, e.nbytes); }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> by_name_;
};

}  // namespace qf::sdk
