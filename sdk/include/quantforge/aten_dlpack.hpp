// DLTensor <-> at::Tensor without copies, for plugins (and the host) that use LibTorch's ATen.
// Include it only when you link LibTorch; the rest of the SDK does not need it.
//
// Both directions borrow: a view made from an at::Tensor is valid while that tensor lives (its
// shape points into the tensor's sizes), and a tensor made from a DLTensor is valid while the
// DLTensor's memory is (plugin.h says how long for each host call).
#pragma once

#include <ATen/Functions.h>
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "quantforge/errors.hpp"
#include "quantforge/plugin.h"

namespace qf::sdk::aten {

// The DLPack type of an ATen dtype; PluginError(QF_ERR_INTERNAL) for types DLPack cannot name.
inline DLDataType dl_dtype(at::ScalarType type) {
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
    default: throw PluginError(QF_ERR_INTERNAL, std::string("no DLPack type for ") + at::toString(type));
  }
}

// The ATen dtype of a DLPack type; PluginError(QF_ERR_INVALID_ARGUMENT) naming `what` otherwise.
inline at::ScalarType scalar_type(const DLDataType& t, const std::string& what) {
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
  throw PluginError(QF_ERR_INVALID_ARGUMENT, what + ": unsupported DLPack dtype (code " + std::to_string(t.code) +
                                                 ", bits " + std::to_string(t.bits) + ")");
}

// A view of a contiguous CPU tensor. A non-contiguous tensor is a bug in the caller.
inline DLTensor view(const at::Tensor& t) {
  if (!t.is_contiguous() || !t.device().is_cpu())
    throw PluginError(QF_ERR_INTERNAL, "DLPack views need contiguous CPU tensors (a bug in the caller)");
  DLTensor d{};
  d.data = t.data_ptr();
  d.device = DLDevice{kDLCPU, 0};
  d.ndim = static_cast<int32_t>(t.dim());
  d.dtype = dl_dtype(t.scalar_type());
  d.shape = const_cast<int64_t*>(t.sizes().data());
  d.strides = nullptr;
  d.byte_offset = 0;
  return d;
}
inline DLTensor view(at::Tensor&& t) = delete;  // a view of a temporary tensor would dangle

// A non-owning tensor over a compact row-major CPU DLTensor (strides, if given, must describe
// that layout); PluginError(QF_ERR_INVALID_ARGUMENT) naming `what` otherwise.
inline at::Tensor borrow(const DLTensor& t, const std::string& what) {
  if (t.device.device_type != kDLCPU) throw PluginError(QF_ERR_INVALID_ARGUMENT, what + ": only CPU tensors are accepted");
  std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
  if (t.strides != nullptr) {
    int64_t expected = 1;
    for (int32_t d = t.ndim - 1; d >= 0; --d) {
      if (shape[d] != 1 && t.strides[d] != expected)
        throw PluginError(QF_ERR_INVALID_ARGUMENT, what + ": tensor is not contiguous");
      expected *= shape[d];
    }
  }
  return at::from_blob(static_cast<char*>(t.data) + t.byte_offset, shape,
                       at::TensorOptions().dtype(scalar_type(t.dtype, what)));
}

}  // namespace qf::sdk::aten
