// Hugging Face style safetensors shards, streamed: add() copies each tensor's bytes to a spool file
// at once (the caller's buffer may go away, the model never sits in memory); finish() splits them
// into shards and writes each file atomically from the spool.
//
// Shards are filled greedily in arrival order as huggingface_hub's split_state_dict_into_shards_factory
// does: a new shard starts when current + tensor > max_shard_size; a tensor larger than the limit gets
// a shard of its own, placed before the shard being filled at that moment.
#pragma once


#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "quantforge/atomic_file.hpp"
#include "quantforge/tensor_spool.hpp"
#include "quantforge/safetensors_header.hpp"

namespace qf::sdk::st {

// Hugging Face shard names; i is 0-based, the name shows i+1:
// n == 1 -> "<prefix><suffix>.safetensors", else "<prefix>-%05d-of-%05d<suffix>.safetensors".
// shard_file_name("model", "-AWQ", 0, 2) == "model-00001-of-00002-AWQ.safetensors".
inline std::string shard_file_name(const std::string& prefix, const std::string& suffix, std::size_t i,
                                   std::size_t n) {
  if (n == 1) return prefix + suffix + ".safetensors";
  char mid[64];
  std::snprintf(mid, sizeof mid, "-%05zu-of-%05zu", i + 1, n);
  return prefix + mid + suffix + ".safetensors";
}

struct ShardInfo {
  std::string path;                // what path_for returned
  std::vector<std::string> names;  // in arrival order
  uint64_t data_bytes = 0;         // sum of tensor byte sizes (what the index's total_size adds up)
};

class ShardedWriter {
 public:
  // spool_path: a file for the tensor bytes, on the output's file system (a RAM-backed /tmp defeats
  // the point); a plugin passes Session::create_scratch(...). It is created or truncated, and its name
  // removed at once: the open file lives on, and the kernel frees it even if the process dies.
  ShardedWriter(uint64_t max_shard_size, const std::string& spool_path, Metadata metadata = {})
      : max_shard_size_(max_shard_size), metadata_(std::move(metadata)), spool_(spool_path) {}

  // Throws std::invalid_argument for a duplicate name or a size mismatch (nothing is added then).
  void add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
           std::size_t nbytes) {
    const std::string what = "sharded writer";
    if (finished_) throw std::logic_error(what + ": tensor '" + name + "' added after finish()");
    check_tensor(name, dtype, shape, nbytes, what);
    if (nbytes > 0 && data == nullptr) throw std::invalid_argument(what + ": tensor '" + name + "': data pointer is null");
    spool_.add(name, dtype, shape, data, nbytes, what);
  }
  // A DLPack tensor as add_tensor receives it (checked: CPU, compact, a safetensors dtype).
  void add(const std::string& name, const DLTensor& t) {
    const TensorBytes b = tensor_bytes(name, t);
    add(name, b.dtype, b.shape, b.data, b.nbytes);
  }

  // Writes shard i of n to path_for(i, n) (0-based i) and returns them in order. With no tensors it
  // writes one empty, valid file. Call once.
  std::vector<ShardInfo> finish(const std::function<std::string(std::size_t i, std::size_t n)>& path_for) {
    if (finished_) throw std::logic_error("sharded writer: finish() called twice");
    finished_ = true;
    const auto shards = plan_shards();
    std::vector<ShardInfo> out;
    for (std::size_t s = 0; s < shards.size(); ++s) {
      ShardInfo info;
      info.path = path_for(s, shards.size());
      std::vector<HeaderEntry> planned;
      for (std::size_t i : shards[s]) {
        const TensorSpool::Entry& e = spool_.entries()[i];
        planned.push_back({&e.name, e.dtype, &e.shape, e.nbytes, i});
        info.names.push_back(e.name);
        info.data_bytes += e.nbytes;
      }
      sort_reference(planned, info.path);
      const std::string header = encode_header(planned, metadata_, info.path);
      AtomicFile f(info.path);
      f.write(header.data(), header.size());
      for (const auto& p : planned) spool_.copy_to(f, spool_.entries()[p.source]);
      f.commit();
      out.push_back(std::move(info));
    }
    return out;
  }

  std::size_t tensor_count() const { return spool_.entries().size(); }
  uint64_t total_bytes() const { return spool_.total_bytes(); }

 private:
  std::vector<std::vector<std::size_t>> plan_shards() const {
    std::vector<std::vector<std::size_t>> shards;
    std::vector<std::size_t> current;
    uint64_t current_size = 0;
    const auto& entries = spool_.entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const uint64_t size = entries[i].nbytes;
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

  uint64_t max_shard_size_;
  Metadata metadata_;
  TensorSpool spool_;
  bool finished_ = false;
};

}  // namespace qf::sdk::st
