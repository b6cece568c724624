#pragma once
// The safetensors element types we read and write, with their on-disk names and sizes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qf::st {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(DType t);
std::string_view dtype_name(DType t);                         // "F32", "BF16", ...
std::optional<DType> parse_dtype(std::string_view name);      // nullopt for names we do not support
// Rank in the reference writer's ordering: the position in safetensors' Rust `Dtype` enum
// (BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32 < F64 < I64); files list the highest rank first.
int dtype_alignment_rank(DType t);

// "F64, F32, ..." for error messages.
std::string supported_dtype_names();
// dtype_size(t) x product(shape); nullopt when a dimension is negative or the product overflows.
std::optional<uint64_t> byte_size(DType t, const std::vector<int64_t>& shape);

}  // namespace qf::st
