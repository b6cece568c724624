#pragma once
// Internal: what write_file and ShardedWriter share: tensor checks, the reference order, header bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "safetensors/writer.hpp"

namespace qf::st::detail {

struct Planned {
  const std::string* name;
  DType dtype;
  const std::vector<int64_t>* shape;
  uint64_t nbytes;
  std::size_t source;  // index in the caller's list
};

// Throws qf::Error naming file and tensor: reserved or non-UTF-8 name, nbytes != dtype x shape.
void check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, uint64_t nbytes,
                  const std::string& file);

// Sorts into the reference writer's order (dtype rank descending, then name bytewise ascending) and
// throws qf::Error on a duplicate name.
void sort_reference(std::vector<Planned>& tensors, const std::string& file);

// 8-byte little-endian length + compact JSON header padded with spaces to a multiple of 8, for
// tensors laid out back to back in the given order.
std::string encode_header(const std::vector<Planned>& ordered, const Metadata& metadata, const std::string& file);

}  // namespace qf::st::detail
