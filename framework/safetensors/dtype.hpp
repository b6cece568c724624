#pragma once
// The safetensors element types we read and write, with their on-disk names and sizes.
#include <cstddef>
#include <optional>
#include <string_view>

namespace qf::st {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(DType t);
std::string_view dtype_name(DType t);                         // "F32", "BF16", ...
std::optional<DType> parse_dtype(std::string_view name);      // nullopt for names we do not support
// Rank in the reference writer's ordering (higher alignment first): used to order tensors in a file.
int dtype_alignment_rank(DType t);

}  // namespace qf::st
