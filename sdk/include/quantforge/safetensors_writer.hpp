// Everything a format plugin needs to write safetensors, from the SDK alone: dtypes, header bytes,
// one complete file (write_file), shards (ShardedWriter) and the index (write_index).
#pragma once

#include <string>
#include <vector>

#include "quantforge/atomic_file.hpp"
#include "quantforge/safetensors_dtype.hpp"
#include "quantforge/safetensors_header.hpp"
#include "quantforge/safetensors_index.hpp"
#include "quantforge/sharded_writer.hpp"

namespace qf::sdk::st {

// Borrowed bytes of one tensor (row-major, little-endian); nbytes must equal dtype x shape.
struct TensorRef {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

// Checks every tensor and returns the header entries in file order; throws std::invalid_argument
// naming `file` and the tensor.
inline std::vector<HeaderEntry> plan_file(const std::vector<TensorRef>& tensors, const std::string& file) {
  std::vector<HeaderEntry> out;
  out.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorRef& t = tensors[i];
    check_tensor(t.name, t.dtype, t.shape, t.nbytes, file);
    if (t.nbytes > 0 && t.data == nullptr)
      throw std::invalid_argument(file + ": tensor '" + t.name + "': data pointer is null");
    out.push_back({&t.name, t.dtype, &t.shape, t.nbytes, i});
  }
  sort_reference(out, file);
  return out;
}

// Exactly the bytes write_file writes before the tensor data.
inline std::string encode_file_header(const std::vector<TensorRef>& tensors, const Metadata& metadata = {},
                                      const std::string& file = "<memory>") {
  return encode_header(plan_file(tensors, file), metadata, file);
}

// One complete file, atomically; every check runs before anything is created.
inline void write_file(const std::string& path, const std::vector<TensorRef>& tensors, const Metadata& metadata = {}) {
  const auto ordered = plan_file(tensors, path);
  const std::string header = encode_header(ordered, metadata, path);
  AtomicFile out(path);
  out.write(header.data(), header.size());
  for (const auto& t : ordered) out.write(tensors[t.source].data, t.nbytes);
  out.commit();
}

}  // namespace qf::sdk::st
