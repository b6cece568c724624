#include "model/packed_linear.hpp"

#include <map>
#include <string>
#include <tuple>

#include <ATen/Functions.h>
#include <dnnl.hpp>

#include "common/error.hpp"

namespace qf::model {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::desc plain(int64_t rows, int64_t cols) { return dnnl::memory::desc({rows, cols}, dt::bf16, tag::ab); }

}  // namespace

struct PackedLinear::State {
  // The weight the packed copy was made from (held so its storage cannot be reused unnoticed).
  at::Tensor source;
  uint32_t source_version = 0;
  dnnl::memory::desc packed_desc;
  dnnl::memory packed;
  bool valid = false;

  std::string packed_impl;  // the kernel the layout was chosen for
  struct Primitive {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul matmul;
    bool use_aten = false;  // this shape would run a different (slower) kernel on our layout
  };
  using Key = std::tuple<int64_t, bool, bool>;  // rows, has bias, silu-mul epilogue
  std::map<Key, Primitive> primitives;

  bool fresh_for(const at::Tensor& w) const {
    return valid && source.is_alias_of(w) && source.storage_offset() == w.storage_offset() &&
           source.sizes() == w.sizes() && w._version() == source_version;
  }
};

PackedLinear::PackedLinear() : state_(std::make_shared<State>()) {}

bool PackedLinear::applicable(const at::Tensor& x, const at::Tensor& weight) {
  return x.scalar_type() == at::kBFloat16 && weight.scalar_type() == at::kBFloat16 && weight.dim() == 2 &&
         weight.stride(1) == 1 && weight.stride(0) == weight.size(1) && !weight.is_inference() &&
         x.size(-1) == weight.size(1) && x.device().is_cpu() && weight.device().is_cpu();
}

at::Tensor PackedLinear::forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) const {
  return run(x, weight, bias, nullptr);
}

at::Tensor PackedLinear::forward_silu_mul(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                          const at::Tensor& multiplier) const {
  return run(x, weight, bias, &multiplier);
}

at::Tensor PackedLinear::run(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor* multiplier) const {
  QF_ASSERT(applicable(x, weight), "PackedLinear: bf16 input and contiguous bf16 weight required");
  const int64_t n = weight.size(0), k = weight.size(1);
  const at::Tensor x2 = x.reshape({-1, k}).contiguous();
  const int64_t m = x2.size(0);
  std::vector<int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = n;
  at::Tensor y = at::empty({m, n}, x.options());
  if (m == 0) return y.view(out_shape);
  const bool has_bias = bias.defined();
  const at::Tensor b = has_bias ? bias.to(at::kBFloat16).contiguous() : at::Tensor();
  const at::Tensor mul = multiplier ? multiplier->to(at::kBFloat16).reshape({m, n}).contiguous() : at::Tensor();

  State& s = *state_;
  const dnnl::engine& engine = cpu_engine();
  dnnl::stream stream(engine);
  auto make_pd = [&](const dnnl::memory::desc& weights_desc) {
    dnnl::primitive_attr attr;
    if (multiplier) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);  // x * sigmoid(1 * x)
      ops.append_binary(dnnl::algorithm::binary_mul, plain(m, n));
      attr.set_post_ops(ops);
    }
    const dnnl::memory::desc bias_desc = has_bias ? plain(1, n) : dnnl::memory::desc();
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(plain(m, k), weights_desc, bias_desc, plain(m, n)), attr,
                                        engine);
  };

  if (!s.fresh_for(weight)) {
    // Let oneDNN choose the layout for this shape, then reorder W^T ([k, n], i.e. W's rows read as
    // columns) into it once. Primitives made for the old layout are dropped if it changed.
    const auto pd = make_pd(dnnl::memory::desc({k, n}, dt::bf16, tag::any));
    if (!s.valid || pd.weights_desc() != s.packed_desc) s.primitives.clear();
    s.packed_desc = pd.weights_desc();
    s.packed = dnnl::memory(s.packed_desc, engine);
    dnnl::memory src(dnnl::memory::desc({k, n}, dt::bf16, tag::ba), engine, weight.data_ptr());
    dnnl::reorder(src, s.packed).execute(stream, src, s.packed);
    stream.wait();
    s.packed_impl = pd.impl_info_str();
    s.source = weight;
    s.source_version = weight._version();
    s.valid = true;
  }
  const State::Key key{m, has_bias, multiplier != nullptr};
  auto it = s.primitives.find(key);
  if (it == s.primitives.end()) {
    if (s.primitives.size() >= 16) s.primitives.clear();  // row counts seen are few; bound them anyway
    auto pd = make_pd(s.packed_desc);
    const bool same_kernel = std::string(pd.impl_info_str()) == s.packed_impl;
    it = s.primitives.emplace(key, State::Primitive{pd, dnnl::matmul(pd), !same_kernel}).first;
  }
  if (it->second.use_aten) {
    at::Tensor r = at::linear(x2, weight, b);
    if (multiplier) r = at::silu(r).mul_(mul);
    return r.view(out_shape);
  }

  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(plain(m, k), engine, x2.data_ptr())},
      {DNNL_ARG_WEIGHTS, s.packed},
      {DNNL_ARG_DST, dnnl::memory(plain(m, n), engine, y.data_ptr())}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(plain(1, n), engine, b.data_ptr()));
  if (multiplier)
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, dnnl::memory(plain(m, n), engine, mul.data_ptr()));
  it->second.matmul.execute(stream, args);
  stream.wait();
  return y.view(out_shape);
}

}  // namespace qf::model
