#pragma once
// Where a model's tensors come from: the mmap'ed checkpoint, or an in-memory map (benchmarks and
// tests build synthetic models without touching disk). The runtime only ever asks by full name.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "safetensors/reader.hpp"

namespace qf::model {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  // A tensor over the stored bytes in the stored dtype. It may alias a read-only map: never write
  // to it; convert or copy first (owned_copy). Throws qf::Error naming the tensor when missing.
  virtual at::Tensor borrow(const std::string& name) const = 0;
};

// A converted, owned copy (safe to modify in place). Checks the shape when `shape` is non-empty.
at::Tensor owned_copy(const WeightSource& src, const std::string& name, at::ScalarType dtype,
                      const std::vector<int64_t>& shape = {});

class CheckpointSource final : public WeightSource {
 public:
  explicit CheckpointSource(st::Checkpoint ckpt);
  bool contains(const std::string& name) const override;
  at::Tensor borrow(const std::string& name) const override;

 private:
  st::Checkpoint ckpt_;
};

class MapSource final : public WeightSource {
 public:
  explicit MapSource(std::map<std::string, at::Tensor> tensors) : tensors_(std::move(tensors)) {}
  bool contains(const std::string& name) const override { return tensors_.count(name) != 0; }
  at::Tensor borrow(const std::string& name) const override;
  std::map<std::string, at::Tensor>& tensors() { return tensors_; }

 private:
  std::map<std::string, at::Tensor> tensors_;
};

// safetensors element type -> ATen scalar type (qf::Error for types a model weight cannot have).
at::ScalarType to_scalar_type(st::DType dtype, const std::string& tensor_name);

}  // namespace qf::model
