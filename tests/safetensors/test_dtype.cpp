#include <catch2/catch.hpp>

#include "safetensors/dtype.hpp"

using namespace qf::st;

TEST_CASE("dtype names, sizes and parsing round trip", "[safetensors][dtype]") {
  const struct {
    DType t;
    const char* name;
    std::size_t size;
  } rows[] = {{DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
              {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
              {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1}};
  for (const auto& r : rows) {
    CHECK(dtype_name(r.t) == r.name);
    CHECK(dtype_size(r.t) == r.size);
    CHECK(parse_dtype(r.name) == r.t);
  }
  CHECK_FALSE(parse_dtype("F8_E4M3"));
  CHECK_FALSE(parse_dtype("f32"));  // names are case-sensitive, as in the reference
  CHECK_FALSE(parse_dtype(""));
}

TEST_CASE("dtype rank follows the safetensors Dtype enum order", "[safetensors][dtype]") {
  // BOOL < U8 < I8 < I16 < F16 < BF16 < I32 < F32 < F64 < I64 (safetensors/src/tensor.rs).
  const DType order[] = {DType::BOOL, DType::U8,  DType::I8,  DType::I16, DType::F16,
                         DType::BF16, DType::I32, DType::F32, DType::F64, DType::I64};
  for (std::size_t i = 1; i < std::size(order); ++i)
    CHECK(dtype_alignment_rank(order[i - 1]) < dtype_alignment_rank(order[i]));
}

TEST_CASE("byte_size checks negative dims and overflow", "[safetensors][dtype]") {
  CHECK(byte_size(DType::F32, {}) == 4u);  // a scalar
  CHECK(byte_size(DType::F16, {3, 0, 5}) == 0u);
  CHECK(byte_size(DType::BF16, {4096, 11008}) == 2u * 4096 * 11008);
  CHECK_FALSE(byte_size(DType::F32, {-1}));
  CHECK_FALSE(byte_size(DType::F32, {int64_t(1) << 62, 4}));  // 2^66 wraps to 0 unchecked
  CHECK_FALSE(byte_size(DType::U8, {int64_t(1) << 32, int64_t(1) << 32}));
}
