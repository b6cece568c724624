#include "pipeline/dl_views.hpp"

#include <ATen/ATen.h>

#include "common/error.hpp"

namespace qf::pipeline {

DLDataType to_dl_dtype(st::DType dtype) {
  switch (dtype) {
    case st::DType::F64: return {kDLFloat, 64, 1};
    case st::DType::F32: return {kDLFloat, 32, 1};
    case st::DType::F16: return {kDLFloat, 16, 1};
    case st::DType::BF16: return {kDLBfloat, 16, 1};
    case st::DType::I64: return {kDLInt, 64, 1};
    case st::DType::I32: return {kDLInt, 32, 1};
    case st::DType::I16: return {kDLInt, 16, 1};
    case st::DType::I8: return {kDLInt, 8, 1};
    case st::DType::U8: return {kDLUInt, 8, 1};
    case st::DType::BOOL: return {kDLUInt, 1, 1};
  }
  QF_ASSERT(false, "unhandled safetensors dtype");
}

DLDataType to_dl_dtype(at::ScalarType type) {
  switch (type) {
    case at::kDouble: return {kDLFloat, 64, 1};
    case at::kFloat: return {kDLFloat, 32, 1};
    case at::kHalf: return {kDLFloat, 16, 1};
    case at::kBFloat16: return {kDLBfloat, 16, 1};
    case at::kLong: return {kDLInt, 64, 1};
    case at::kInt: return {kDLInt, 32, 1};
    case at::kShort: return {kDLInt, 16, 1};
    case at::kChar: return {kDLInt, 8, 1};
    case at::kByte: return {kDLUInt, 8, 1};
    case at::kBool: return {kDLUInt, 1, 1};
    default: throw Error(std::string("no DLPack type for ") + at::toString(type));
  }
}

at::ScalarType to_scalar_type(const DLDataType& t, const std::string& what) {
  if (t.lanes == 1) {
    if (t.code == kDLFloat && t.bits == 64) return at::kDouble;
    if (t.code == kDLFloat && t.bits == 32) return at::kFloat;
    if (t.code == kDLFloat && t.bits == 16) return at::kHalf;
    if (t.code == kDLBfloat && t.bits == 16) return at::kBFloat16;
    if (t.code == kDLInt && t.bits == 64) return at::kLong;
    if (t.code == kDLInt && t.bits == 32) return at::kInt;
    if (t.code == kDLInt && t.bits == 16) return at::kShort;
    if (t.code == kDLInt && t.bits == 8) return at::kChar;
    if (t.code == kDLUInt && t.bits == 8) return at::kByte;
    if (t.code == kDLUInt && t.bits == 1) return at::kBool;
  }
  throw Error(what + ": unsupported DLPack dtype (code " + std::to_string(t.code) + ", bits " +
              std::to_string(t.bits) + ")");
}

DLTensor view_of(const at::Tensor& tensor) {
  QF_ASSERT(tensor.is_contiguous() && tensor.device().is_cpu(), "views need contiguous CPU tensors");
  DLTensor t{};
  t.data = tensor.data_ptr();
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(tensor.dim());
  t.dtype = to_dl_dtype(tensor.scalar_type());
  t.shape = const_cast<int64_t*>(tensor.sizes().data());
  t.strides = nullptr;
  t.byte_offset = 0;
  return t;
}

DLTensor view_of(const st::TensorView& stored) {
  DLTensor t{};
  t.data = const_cast<std::byte*>(stored.data);
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(stored.info->shape.size());
  t.dtype = to_dl_dtype(stored.info->dtype);
  t.shape = const_cast<int64_t*>(stored.info->shape.data());
  t.strides = nullptr;
  t.byte_offset = 0;
  return t;
}

at::Tensor borrow_dl(const DLTensor& t, const std::string& what) {
  if (t.device.device_type != kDLCPU) throw Error(what + ": only CPU tensors are accepted");
  std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
  if (t.strides != nullptr) {
    int64_t expected = 1;
    for (int32_t d = t.ndim - 1; d >= 0; --d) {
      if (shape[d] != 1 && t.strides[d] != expected) throw Error(what + ": tensor is not contiguous");
      expected *= shape[d];
    }
  }
  return at::from_blob(static_cast<char*>(t.data) + t.byte_offset, shape,
                       at::TensorOptions().dtype(to_scalar_type(t.dtype, what)));
}

}  // namespace qf::pipeline
