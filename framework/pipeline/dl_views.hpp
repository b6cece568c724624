#pragma once
// Borrowed DLPack views over ATen tensors and checkpoint bytes, and back. No copies: each view is
// valid only while what it points into lives.
#include <ATen/core/Tensor.h>
#include <dlpack/dlpack.h>

#include "safetensors/reader.hpp"

namespace qf::pipeline {

DLDataType to_dl_dtype(st::DType dtype);
DLDataType to_dl_dtype(at::ScalarType type);
at::ScalarType to_scalar_type(const DLDataType& dtype, const std::string& what);

// `tensor` must be contiguous and on CPU; the view borrows its data and sizes.
DLTensor view_of(const at::Tensor& tensor);
// A view of stored checkpoint bytes (shape borrowed from the TensorInfo).
DLTensor view_of(const st::TensorView& stored);
// A non-owning ATen tensor over a DLTensor (compact row-major CPU only; qf::Error otherwise).
at::Tensor borrow_dl(const DLTensor& t, const std::string& what);

}  // namespace qf::pipeline
