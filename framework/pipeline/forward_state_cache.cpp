#include "pipeline/forward_state_cache.hpp"

#include <ATen/ATen.h>

#include <cstring>

namespace qf::pipeline {
namespace {

// Bit for bit: a restored weight must be exactly the one the states were computed with.
bool same_bits(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  if (a.is_contiguous() && b.is_contiguous())
    return std::memcmp(a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0;
  return at::equal(a, b);
}

}  // namespace

bool ForwardStateCache::stale(Slot s) const {
  for (const auto& entry : basis_)
    if (entry.second.differs && depends_on(s, entry.second.input_group)) return true;
  return false;
}

at::Tensor ForwardStateCache::usable(Slot s) const {
  const State& st = states_[s];
  return st.complete && !stale(s) ? st.value : at::Tensor();
}

at::Tensor ForwardStateCache::begin_fill(Slot s, at::IntArrayRef sizes, at::ScalarType dtype) {
  // The new state is computed with the weights in the layer now. States computed with the ones a
  // changed linear held before can never become usable again once that basis is forgotten.
  for (auto it = basis_.begin(); it != basis_.end();) {
    if (it->second.differs && depends_on(s, it->second.input_group)) {
      for (int t = 0; t < kSlots; ++t)
        if (depends_on(static_cast<Slot>(t), it->second.input_group)) states_[t] = State{};
      it = basis_.erase(it);  // the next write records the weights the new state uses
    } else {
      ++it;
    }
  }
  states_[s] = State{};
  at::Tensor& buffer = buffers_[s];
  if (buffer.defined() && buffer.sizes() == sizes && buffer.scalar_type() == dtype) {
    states_[s].value = buffer;
    return buffer;
  }
  buffer = at::Tensor();
  int64_t bytes = static_cast<int64_t>(c10::elementSize(dtype));
  for (const int64_t d : sizes) bytes *= d;
  if (bytes_held() + bytes > budget_) return at::Tensor();
  buffer = at::empty(sizes, at::TensorOptions().dtype(dtype));
  states_[s].value = buffer;
  return buffer;
}

void ForwardStateCache::commit(Slot s) {
  if (states_[s].value.defined()) states_[s].complete = true;
}

void ForwardStateCache::before_write(const std::string& linear, int input_group, const at::Tensor& current) {
  if (basis_.count(linear)) return;
  for (int t = 0; t < kSlots; ++t)
    if (states_[t].complete && depends_on(static_cast<Slot>(t), input_group)) {
      basis_[linear] = Basis{input_group, current.clone(), false};
      return;
    }
}

void ForwardStateCache::after_write(const std::string& linear, const at::Tensor& current) {
  auto it = basis_.find(linear);
  if (it != basis_.end()) it->second.differs = !same_bits(current, it->second.weight);
}

void ForwardStateCache::clear() {
  states_ = {};
  basis_.clear();
}

int64_t ForwardStateCache::bytes_held() const {
  int64_t bytes = 0;
  for (const at::Tensor& b : buffers_)
    if (b.defined()) bytes += static_cast<int64_t>(b.nbytes());
  return bytes;
}

}  // namespace qf::pipeline
