#include "model/weight_source.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "common/error.hpp"

namespace qf::model {
namespace {

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

at::ScalarType to_scalar_type(st::DType dtype, const std::string& tensor_name) {
  switch (dtype) {
    case st::DType::F64: return at::kDouble;
    case st::DType::F32: return at::kFloat;
    case st::DType::F16: return at::kHalf;
    case st::DType::BF16: return at::kBFloat16;
    case st::DType::I64: return at::kLong;
    case st::DType::I32: return at::kInt;
    case st::DType::I16: return at::kShort;
    case st::DType::I8: return at::kChar;
    case st::DType::U8: return at::kByte;
    case st::DType::BOOL: return at::kBool;
  }
  throw Error("tensor '" + tensor_name + "': unsupported dtype");
}

at::Tensor owned_copy(const WeightSource& src, const std::string& name, at::ScalarType dtype,
                      const std::vector<int64_t>& shape) {
  at::Tensor t = src.borrow(name);
  if (!shape.empty() && t.sizes() != at::IntArrayRef(shape))
    throw Error("tensor '" + name + "' has shape " + shape_str(t.sizes()) + ", expected " + shape_str(shape));
  // copy=true: the borrowed tensor may alias the read-only map even when no conversion is needed.
  return t.to(dtype, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

CheckpointSource::CheckpointSource(st::Checkpoint ckpt) : ckpt_(std::move(ckpt)) {}

bool CheckpointSource::contains(const std::string& name) const { return ckpt_.contains(name); }

at::Tensor CheckpointSource::borrow(const std::string& name) const {
  st::TensorView v = ckpt_.get(name);
  auto owner = v.owner;  // the deleter keeps the map alive as long as the tensor lives
  return at::from_blob(const_cast<std::byte*>(v.data), v.info->shape, [owner](void*) {},
                       at::TensorOptions().dtype(to_scalar_type(v.info->dtype, name)));
}

at::Tensor MapSource::borrow(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error("tensor '" + name + "' not found");
  return it->second;
}

}  // namespace qf::model
