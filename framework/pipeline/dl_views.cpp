#include "pipeline/dl_views.hpp"

#include <ATen/ATen.h>

#include "common/error.hpp"
#include "quantforge/aten_dlpack.hpp"

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

// The ATen <-> DLPack rules live in the SDK (plugins use the same ones); the host reports their
// failures as its own errors.
DLDataType to_dl_dtype(at::ScalarType type) {
  try {
    return sdk::aten::dl_dtype(type);
  } catch (const sdk::PluginError& e) {
    throw InternalError(e.what());
  }
}

at::ScalarType to_scalar_type(const DLDataType& t, const std::string& what) {
  try {
    return sdk::aten::scalar_type(t, what);
  } catch (const sdk::PluginError& e) {
    throw Error(e.what());
  }
}

DLTensor view_of(const at::Tensor& tensor) {
  QF_ASSERT(tensor.is_contiguous() && tensor.device().is_cpu(), "views need contiguous CPU tensors");
  return sdk::aten::view(tensor);
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
  try {
    return sdk::aten::borrow(t, what);
  } catch (const sdk::PluginError& e) {
    throw Error(e.what());
  }
}

}  // namespace qf::pipeline
