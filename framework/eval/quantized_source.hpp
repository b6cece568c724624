#pragma once
// A WeightSource over a checkpoint that may hold packed Linears: asked for "<prefix>.weight" that is
// not stored while "<prefix>.qweight" is, it returns the dequantized fp32 weight [out, in]
// (dequantize.hpp). Every other tensor passes through unchanged. Dequantization happens on each
// borrow, i.e. when the model loads a layer, so only the resident layer exists in fp32.
#include <memory>
#include <optional>
#include <string>

#include "eval/quant_scheme.hpp"
#include "model/weight_source.hpp"

namespace qf::eval {

class QuantizedSource final : public model::WeightSource {
 public:
  // Without a scheme, a packed Linear is an error when it is asked for (open_model_for_eval
  // refuses such checkpoints up front).
  QuantizedSource(std::shared_ptr<const model::WeightSource> inner, std::optional<QuantScheme> scheme);

  bool contains(const std::string& name) const override;
  at::Tensor borrow(const std::string& name) const override;

  // True when `name` ("<prefix>.weight") is served by dequantizing "<prefix>.qweight".
  bool is_packed(const std::string& name) const;
  const std::optional<QuantScheme>& scheme() const { return scheme_; }
  const model::WeightSource& inner() const { return *inner_; }

 private:
  std::shared_ptr<const model::WeightSource> inner_;
  std::optional<QuantScheme> scheme_;
};

}  // namespace qf::eval
