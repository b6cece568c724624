#pragma once
// Writing safetensors the way the reference (Rust safetensors + huggingface_hub) does: compact JSON
// header with "__metadata__" first, tensors ordered by dtype rank descending then name, header padded
// with spaces to a multiple of 8. Files appear at their final path only when complete.
// The rules live in the SDK (quantforge/safetensors_writer.hpp), which format plugins use too; these
// are the host's entry points to them, taking std::filesystem paths and throwing qf::Error.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "safetensors/dtype.hpp"

namespace qf::sdk::st {
class ShardedWriter;
}  // namespace qf::sdk::st

namespace qf::st {

using Metadata = std::map<std::string, std::string>;

// Borrowed bytes of one tensor (row-major, little-endian); nbytes must equal dtype x shape.
struct TensorRef {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

// Writes one complete file. Metadata gets "format":"pt" unless it sets "format" itself; "format"
// is written first, other keys sorted. Throws qf::Error naming the file and tensor for duplicate or
// reserved names, non-UTF-8 names and nbytes not matching dtype x shape. The file goes to a
// temporary `<path>.tmp-XXXXXX` first and is renamed onto `path` when complete.
void write_file(const std::filesystem::path& path, const std::vector<TensorRef>& tensors,
                const Metadata& metadata = {});

// Exactly the bytes write_file would write before the tensor data (length prefix, header, padding).
std::string encode_file_header(const std::vector<TensorRef>& tensors, const Metadata& metadata = {},
                               const std::string& file = "<memory>");

// Hugging Face shard names; i is 0-based, the name shows i+1:
// n == 1 -> "<prefix><suffix>.safetensors", else "<prefix>-%05d-of-%05d<suffix>.safetensors".
// shard_file_name("model", "-AWQ", 0, 2) == "model-00001-of-00002-AWQ.safetensors".
std::string shard_file_name(const std::string& prefix, const std::string& suffix, std::size_t i, std::size_t n);

struct ShardInfo {
  std::filesystem::path path;
  std::vector<std::string> names;  // in arrival order
  uint64_t data_bytes = 0;         // sum of tensor byte sizes (what index total_size adds up)
};

// Streams tensors to shards without holding them in memory: add() copies bytes to an anonymous spool
// file at once; finish() assigns shards and writes each file from the spool. Shards are filled
// greedily in arrival order like huggingface_hub's split_state_dict_into_shards_factory: a new shard
// starts when current + tensor > max_shard_size; a tensor larger than max goes alone into a shard of
// its own, placed before the shard being filled at that moment (as huggingface_hub does).
class ShardedWriter {
 public:
  // spool_dir: where the spool lives; pick the output's filesystem (a RAM-backed /tmp defeats the point).
  ShardedWriter(uint64_t max_shard_size, const std::filesystem::path& spool_dir, Metadata metadata = {});
  ~ShardedWriter();
  ShardedWriter(const ShardedWriter&) = delete;
  ShardedWriter& operator=(const ShardedWriter&) = delete;

  // Throws qf::Error for a duplicate name or a size mismatch (nothing is added then).
  void add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
           std::size_t nbytes);
  // Writes shard i of n to path_for(i, n) (0-based i) and returns them in order. With no tensors
  // added it writes one empty, valid file. Call once.
  std::vector<ShardInfo> finish(const std::function<std::filesystem::path(std::size_t i, std::size_t n)>& path_for);

  std::size_t tensor_count() const;
  uint64_t total_bytes() const;

 private:
  std::unique_ptr<sdk::st::ShardedWriter> impl_;
};

// `{"metadata":{"total_size":N},"weight_map":{...}}`, indent 2, keys sorted, ASCII-escaped, final
// newline (transformers' save_pretrained style). Written atomically like write_file.
void write_index(const std::filesystem::path& path, uint64_t total_size,
                 const std::map<std::string, std::string>& weight_map);
// The same from finish()'s result: weight_map values are the shard file names (no directory).
void write_index(const std::filesystem::path& path, const std::vector<ShardInfo>& shards);

}  // namespace qf::st
