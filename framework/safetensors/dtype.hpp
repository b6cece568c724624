#pragma once
// The safetensors element types we read and write. The table (names, sizes, the reference order) is
// the SDK's, so format plugins and the host follow one copy of each rule.
#include "quantforge/safetensors_dtype.hpp"

namespace qf::st {

using sdk::st::DType;

using sdk::st::byte_size;             // dtype x shape; nullopt for a negative dimension or overflow
using sdk::st::dtype_alignment_rank;  // rank in the reference writer's order; files list the highest first
using sdk::st::dtype_name;            // "F32", "BF16", ...
using sdk::st::dtype_size;
using sdk::st::parse_dtype;            // nullopt for names we do not support
using sdk::st::supported_dtype_names;  // "F64, F32, ..." for error messages

}  // namespace qf::st
