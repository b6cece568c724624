// AutoAWQ GEMM layout (docs/awq.md#gemm-packing) through the SDK's shared packing code.
#include <stdexcept>

#include <ATen/Functions.h>

#include "awq_core.hpp"
#include "quantforge/half.hpp"
#include "quantforge/packing.hpp"

namespace qf::awq {

GemmTensors pack_gemm(const QuantizedWeight& q, const std::string& name) {
  GemmTensors g;
  g.out = q.codes.size(0);
  g.in = q.codes.size(1);
  g.ngroups = q.zeros.size(1);
  if (g.out % 8 != 0)
    throw std::invalid_argument(name + ": out_features " + std::to_string(g.out) +
                                " is not a multiple of 8 (AWQ GEMM packs 8 output columns per int32)");
  const at::Tensor codes = q.codes.to(at::kInt).contiguous();
  const at::Tensor zeros = q.zeros.to(at::kInt).contiguous();
  const std::vector<int32_t> c(codes.data_ptr<int32_t>(), codes.data_ptr<int32_t>() + codes.numel());
  const std::vector<int32_t> z(zeros.data_ptr<int32_t>(), zeros.data_ptr<int32_t>() + zeros.numel());
  g.qweight = qf::pack::awq_pack_qweight(c, g.out, g.in);
  g.qzeros = qf::pack::awq_pack_qzeros(z, g.out, g.ngroups);
  const at::Tensor st = q.scales.to(at::kFloat).t().contiguous();  // [ngroups, out]
  const float* sp = st.data_ptr<float>();
  g.scales.resize(static_cast<size_t>(st.numel()));
  for (size_t i = 0; i < g.scales.size(); ++i) g.scales[i] = qf::sdk::float_to_half_bits(sp[i]);
  return g;
}

}  // namespace qf::awq
