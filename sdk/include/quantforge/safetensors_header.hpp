// The bytes before a safetensors file's data, as the reference writer (Rust safetensors) makes them:
// 8-byte little-endian length, compact JSON with "__metadata__" first ("format" first inside it,
// then the other keys sorted), tensors ordered by dtype rank descending then name bytewise, data
// offsets back to back, and the JSON padded with spaces to a multiple of 8 bytes.
//
// Worked example, one F32 tensor "a" of shape [2]: the JSON
//   {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}
// is 85 bytes, padded with 3 spaces to 88 = 0x58, so the file starts 58 00 00 00 00 00 00 00.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "quantforge/json_writer.hpp"
#include "quantforge/safetensors_dtype.hpp"

namespace qf::sdk::st {

using Metadata = std::map<std::string, std::string>;

// One tensor of a header, borrowed from the caller: name and shape must outlive the call.
struct HeaderEntry {
  const std::string* name;
  DType dtype;
  const std::vector<int64_t>* shape;
  uint64_t nbytes;
  std::size_t source;  // the caller's index, to find the data again after sorting
};

// Throws std::invalid_argument naming `file` and the tensor: reserved or non-UTF-8 name, a shape
// whose byte size is not computable, nbytes != dtype x shape.
inline void check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, uint64_t nbytes,
                         const std::string& file) {
  auto fail = [&](const std::string& msg) { throw std::invalid_argument(file + ": tensor '" + name + "': " + msg); };
  if (name == "__metadata__") fail("the name is reserved for the header's metadata");
  if (!json::is_valid_utf8(name)) fail("the name is not valid UTF-8");  // the header must be valid JSON
  const auto expect = byte_size(dtype, shape);
  if (!expect) fail("shape has a negative dimension or its byte size overflows");
  if (*expect != nbytes)
    fail("got " + std::to_string(nbytes) + " bytes but " + std::string(dtype_name(dtype)) + " x shape needs " +
         std::to_string(*expect));
}

// Sorts into the reference order (dtype rank descending, then name bytewise ascending) and throws
// std::invalid_argument naming `file` on a duplicate name.
inline void sort_reference(std::vector<HeaderEntry>& tensors, const std::string& file) {
  std::sort(tensors.begin(), tensors.end(), [](const HeaderEntry& a, const HeaderEntry& b) {
    const int ra = dtype_alignment_rank(a.dtype), rb = dtype_alignment_rank(b.dtype);
    if (ra != rb) return ra > rb;
    return *a.name < *b.name;
  });
  // Equal names may have different dtypes, so they need not be adjacent: check a sorted copy.
  std::vector<const std::string*> names;
  names.reserve(tensors.size());
  for (const auto& t : tensors) names.push_back(t.name);
  std::sort(names.begin(), names.end(), [](auto* a, auto* b) { return *a < *b; });
  const auto dup = std::adjacent_find(names.begin(), names.end(), [](auto* a, auto* b) { return *a == *b; });
  if (dup != names.end()) throw std::invalid_argument(file + ": tensor '" + **dup + "' is given twice");
}

// Length prefix + JSON + padding for tensors laid out back to back in the given order. Metadata gets
// "format":"pt" unless it sets "format" itself. Throws std::invalid_argument naming `file` for
// metadata that is not UTF-8.
inline std::string encode_header(const std::vector<HeaderEntry>& ordered, const Metadata& metadata,
                                 const std::string& file) {
  json::Writer w;
  try {
    w.begin_object().key("__metadata__").begin_object();
    const auto fmt = metadata.find("format");
    w.field("format", fmt == metadata.end() ? std::string("pt") : fmt->second);
    for (const auto& [k, v] : metadata)
      if (k != "format") w.field(k, v);
    w.end_object();
  } catch (const json::ValueError& e) {
    throw std::invalid_argument(file + ": metadata is not valid UTF-8 (" + e.what() + ")");
  }
  uint64_t offset = 0;
  for (const auto& t : ordered) {
    w.key(*t.name).begin_object().field("dtype", dtype_name(t.dtype));
    w.field_array("shape", t.shape->begin(), t.shape->end());
    w.key("data_offsets").begin_array().value(offset).value(offset + t.nbytes).end_array();
    w.end_object();
    offset += t.nbytes;
  }
  w.end_object();
  std::string json = w.str();
  json.append((8 - json.size() % 8) % 8, ' ');  // the data that follows starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace qf::sdk::st
