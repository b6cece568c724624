// ShardedWriter: spool tensors to disk as they come, then split them into HF-style shards.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.hpp"
#include "safetensors/atomic_file.hpp"
#include "safetensors/layout.hpp"

namespace qf::st {
namespace fs = std::filesystem;

ShardedWriter::ShardedWriter(uint64_t max_shard_size, const fs::path& spool_dir, Metadata metadata)
    : max_shard_size_(max_shard_size), metadata_(std::move(metadata)) {
  fs::path spool;
  spool_fd_ = detail::create_unique(spool_dir / "qf-spool", spool, /*read_write=*/true);
  ::unlink(spool.c_str());  // anonymous from now on: the kernel frees it even if we crash
}

ShardedWriter::~ShardedWriter() {
  if (spool_fd_ >= 0) ::close(spool_fd_);
}

void ShardedWriter::add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
                        std::size_t nbytes) {
  const std::string what = "sharded writer";
  if (finished_) throw Error(what + ": tensor '" + name + "' added after finish()");
  detail::check_tensor(name, dtype, shape, nbytes, what);
  if (nbytes > 0 && data == nullptr) throw Error(what + ": tensor '" + name + "': data pointer is null");
  if (by_name_.count(name)) throw Error(what + ": tensor '" + name + "' is added twice");
  // Position explicitly: a failed partial write must not shift later tensors.
  if (::lseek(spool_fd_, off_t(spool_size_), SEEK_SET) < 0)
    throw Error(what + ": spool seek failed: " + std::strerror(errno));
  detail::write_all(spool_fd_, data, nbytes, what + ": spooling tensor '" + name + "'");
  by_name_.emplace(name, entries_.size());
  entries_.push_back({name, dtype, shape, spool_size_, nbytes});
  spool_size_ += nbytes;
}

std::vector<std::vector<std::size_t>> ShardedWriter::plan_shards() const {
  std::vector<std::vector<std::size_t>> shards;
  std::vector<std::size_t> current;
  uint64_t current_size = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const uint64_t size = entries_[i].nbytes;
    if (size > max_shard_size_) {  // huggingface_hub appends it at once, ahead of the open shard
      shards.push_back({i});
      continue;
    }
    if (current_size + size > max_shard_size_) {
      shards.push_back(std::move(current));
      current.clear();
      current_size = 0;
    }
    current.push_back(i);
    current_size += size;
  }
  if (!current.empty() || shards.empty()) shards.push_back(std::move(current));
  return shards;
}

std::vector<ShardInfo> ShardedWriter::finish(const std::function<fs::path(std::size_t, std::size_t)>& path_for) {
  if (finished_) throw Error("sharded writer: finish() called twice");
  finished_ = true;
  const auto shards = plan_shards();
  std::vector<ShardInfo> out;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    ShardInfo info;
    info.path = path_for(s, shards.size());
    const std::string file = info.path.string();
    std::vector<detail::Planned> planned;
    for (std::size_t i : shards[s]) {
      const Entry& e = entries_[i];
      planned.push_back({&e.name, e.dtype, &e.shape, e.nbytes, i});
      info.names.push_back(e.name);
      info.data_bytes += e.nbytes;
    }
    detail::sort_reference(planned, file);
    const std::string header = detail::encode_header(planned, metadata_, file);
    detail::AtomicFile f(info.path);
    f.write(header.data(), header.size());
    for (const auto& p : planned) f.copy_from(spool_fd_, entries_[p.source].offset, p.nbytes);
    f.commit();
    out.push_back(std::move(info));
  }
  return out;
}

std::string shard_file_name(const std::string& prefix, const std::string& suffix, std::size_t i, std::size_t n) {
  if (n == 1) return prefix + suffix + ".safetensors";
  char mid[64];
  std::snprintf(mid, sizeof mid, "-%05zu-of-%05zu", i + 1, n);
  return prefix + mid + suffix + ".safetensors";
}

}  // namespace qf::st
