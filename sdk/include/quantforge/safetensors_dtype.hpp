// safetensors element types: on-disk names, sizes, the reference writer's order, and the mapping
// from DLPack dtypes (what a format plugin receives in add_tensor).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <dlpack/dlpack.h>

namespace qf::sdk::st {

// The order is the table's index: append only.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

namespace detail {

struct DTypeRow {
  DType type;
  std::string_view name;
  std::size_t size;
  // Position in the safetensors Rust `Dtype` enum (BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32
  // < F64 < I64); the reference writer sorts by that enum, descending. Gaps are types we skip.
  int rank;
};

inline constexpr std::array<DTypeRow, 10> kDTypes{{
    {DType::F64, "F64", 8, 8},
    {DType::F32, "F32", 4, 7},
    {DType::F16, "F16", 2, 4},
    {DType::BF16, "BF16", 2, 5},
    {DType::I64, "I64", 8, 9},
    {DType::I32, "I32", 4, 6},
    {DType::I16, "I16", 2, 3},
    {DType::I8, "I8", 1, 2},
    {DType::U8, "U8", 1, 1},
    {DType::BOOL, "BOOL", 1, 0},
}};

inline const DTypeRow& row(DType t) { return kDTypes[static_cast<std::size_t>(t)]; }

}  // namespace detail

inline std::size_t dtype_size(DType t) { return detail::row(t).size; }
inline std::string_view dtype_name(DType t) { return detail::row(t).name; }  // "F32", "BF16", ...
// Files list the highest rank first (see detail::DTypeRow::rank).
inline int dtype_alignment_rank(DType t) { return detail::row(t).rank; }

// nullopt for names we do not support.
inline std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& r : detail::kDTypes)
    if (r.name == name) return r.type;
  return std::nullopt;
}

// "F64, F32, ..." for error messages.
inline std::string supported_dtype_names() {
  std::string out;
  for (const auto& r : detail::kDTypes) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

// dtype_size(t) x product(shape); nullopt when a dimension is negative or the product overflows.
inline std::optional<uint64_t> byte_size(DType t, const std::vector<int64_t>& shape) {
  uint64_t n = dtype_size(t);
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    // Shapes can come from untrusted headers: a wrapped product would let a tiny buffer pass a check.
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  }
  return n;
}

// The safetensors type of a DLPack dtype; `name` (the tensor) goes into the message of the
// invalid_argument thrown for a type safetensors cannot store.
inline DType dtype_from_dlpack(const DLDataType& t, const std::string& name) {
  if (t.lanes != 1) throw std::invalid_argument(name + ": vector dtypes are not supported");
  if (t.code == kDLFloat && t.bits == 64) return DType::F64;
  if (t.code == kDLFloat && t.bits == 32) return DType::F32;
  if (t.code == kDLFloat && t.bits == 16) return DType::F16;
  if (t.code == kDLBfloat && t.bits == 16) return DType::BF16;
  if (t.code == kDLInt && t.bits == 64) return DType::I64;
  if (t.code == kDLInt && t.bits == 32) return DType::I32;
  if (t.code == kDLInt && t.bits == 16) return DType::I16;
  if (t.code == kDLInt && t.bits == 8) return DType::I8;
  if (t.code == kDLUInt && t.bits == 8) return DType::U8;
  if (t.code == kDLUInt && t.bits == 1) return DType::BOOL;
  throw std::invalid_argument(name + ": dtype code " + std::to_string(t.code) + " bits " + std::to_string(t.bits) +
                              " has no safetensors equivalent");
}

// The bytes of a DLPack tensor as a writer takes them: checked to be a compact CPU tensor.
struct TensorBytes {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::size_t nbytes = 0;
};

inline TensorBytes tensor_bytes(const std::string& name, const DLTensor& t) {
  if (t.device.device_type != kDLCPU) throw std::invalid_argument(name + ": only CPU tensors can be written");
  if (t.strides != nullptr) {  // row-major with gaps or a transposed view would be written wrong
    int64_t expected = 1;
    for (int32_t d = t.ndim - 1; d >= 0; --d) {
      if (t.shape[d] != 1 && t.strides[d] != expected) throw std::invalid_argument(name + ": tensor is not contiguous");
      expected *= t.shape[d];
    }
  }
  TensorBytes out;
  out.dtype = dtype_from_dlpack(t.dtype, name);
  out.shape.assign(t.shape, t.shape + t.ndim);
  const auto bytes = byte_size(out.dtype, out.shape);
  if (!bytes) throw std::invalid_argument(name + ": shape has a negative dimension or its byte size overflows");
  out.nbytes = static_cast<std::size_t>(*bytes);
  out.data = static_cast<const char*>(t.data) + t.byte_offset;
  return out;
}

}  // namespace qf::sdk::st
