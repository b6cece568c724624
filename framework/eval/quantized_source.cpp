#include "eval/quantized_source.hpp"

#include "common/error.hpp"
#include "eval/dequantize.hpp"

namespace qf::eval {
namespace {

constexpr const char* kWeight = ".weight";
constexpr size_t kWeightLen = 7;

bool ends_with_weight(const std::string& name) {
  return name.size() > kWeightLen && name.compare(name.size() - kWeightLen, kWeightLen, kWeight) == 0;
}

std::string prefix_of(const std::string& name) { return name.substr(0, name.size() - kWeightLen); }

}  // namespace

QuantizedSource::QuantizedSource(std::shared_ptr<const model::WeightSource> inner, std::optional<QuantScheme> scheme)
    : inner_(std::move(inner)), scheme_(std::move(scheme)) {
  QF_ASSERT(inner_ != nullptr, "QuantizedSource needs a source");
}

bool QuantizedSource::is_packed(const std::string& name) const {
  return ends_with_weight(name) && !inner_->contains(name) && inner_->contains(prefix_of(name) + ".qweight");
}

bool QuantizedSource::contains(const std::string& name) const { return inner_->contains(name) || is_packed(name); }

at::Tensor QuantizedSource::borrow(const std::string& name) const {
  if (!is_packed(name)) return inner_->borrow(name);
  const std::string prefix = prefix_of(name);
  if (!scheme_)
    throw Error("tensor '" + prefix + ".qweight' is packed, but the checkpoint has no quantization config to "
                "dequantize it with");
  return dequantize_linear(*inner_, prefix, *scheme_);
}

}  // namespace qf::eval
