#include "pipeline/gram.hpp"

#include <ATen/ATen.h>
#include <dnnl.hpp>

#include "common/error.hpp"

namespace qf::pipeline {
namespace {

// G += X^T X with X bf16 [t, n] row-major, G fp32 [n, n] row-major.
void gram_bf16_onednn(at::Tensor& gram, const at::Tensor& x) {
  using dt = dnnl::memory::data_type;
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const int64_t t = x.size(0), n = x.size(1);
  const dnnl::memory::desc a_md({n, t}, dt::bf16, {1, n});  // X^T: a transposed view, no copy
  const dnnl::memory::desc b_md({t, n}, dt::bf16, {n, 1});
  const dnnl::memory::desc c_md({n, n}, dt::f32, {n, 1});
  dnnl::post_ops accumulate;
  accumulate.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(accumulate);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, engine);
  dnnl::stream stream(engine);
  dnnl::memory a(a_md, engine, x.data_ptr()), b(b_md, engine, x.data_ptr()), c(c_md, engine, gram.data_ptr());
  dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
  stream.wait();
}

}  // namespace

void accumulate_gram(at::Tensor& gram, const at::Tensor& x) {
  QF_ASSERT(gram.scalar_type() == at::kFloat && gram.is_contiguous() && gram.dim() == 2,
            "gram must be a contiguous fp32 matrix");
  QF_ASSERT(x.dim() == 2 && x.size(1) == gram.size(0), "gram input must be [tokens, n]");
  if (x.size(0) == 0) return;
  if (x.scalar_type() == at::kBFloat16) {
    gram_bf16_onednn(gram, x.contiguous());
    return;
  }
  const at::Tensor xf = x.to(at::kFloat);
  gram.addmm_(xf.t(), xf);
}

}  // namespace qf::pipeline
