#include "safetensors/dtype.hpp"

#include <array>
#include <limits>

namespace qf::st {
namespace {

struct DTypeRow {
  DType type;
  std::string_view name;
  std::size_t size;
  // Position in the safetensors Rust `Dtype` enum (BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32
  // < F64 < I64); the reference writer sorts by that enum, descending. Gaps are types we skip.
  int rank;
};

constexpr std::array<DTypeRow, 10> kTable{{
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

const DTypeRow& row(DType t) { return kTable[static_cast<std::size_t>(t)]; }

}  // namespace

std::size_t dtype_size(DType t) { return row(t).size; }
std::string_view dtype_name(DType t) { return row(t).name; }
int dtype_alignment_rank(DType t) { return row(t).rank; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& r : kTable)
    if (r.name == name) return r.type;
  return std::nullopt;
}

std::string supported_dtype_names() {
  std::string out;
  for (const auto& r : kTable) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

std::optional<uint64_t> byte_size(DType t, const std::vector<int64_t>& shape) {
  uint64_t n = dtype_size(t);
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    // Shapes come from untrusted headers: a wrapped product would let a tiny buffer pass the check.
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  }
  return n;
}

}  // namespace qf::st
