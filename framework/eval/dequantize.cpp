#include "eval/dequantize.hpp"

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include <stdexcept>
#include <vector>

#include "common/error.hpp"
#include "quantforge/packing.hpp"

namespace qf::eval {
namespace {

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

at::Tensor read(const model::WeightSource& src, const std::string& name, int64_t dims) {
  if (!src.contains(name)) throw Error("tensor '" + name + "' not found (needed to dequantize)");
  at::Tensor t = src.borrow(name);
  if (t.dim() != dims)
    throw Error("tensor '" + name + "' has shape " + shape_str(t.sizes()) + ", expected " + std::to_string(dims) +
                " dimensions");
  return t;
}

std::vector<int32_t> int32_words(const at::Tensor& t, const std::string& name) {
  if (t.scalar_type() != at::kInt) throw Error("tensor '" + name + "' must be I32 (packed words)");
  const at::Tensor c = t.contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

at::Tensor codes_tensor(std::vector<int32_t>&& v, int64_t rows, int64_t cols) {
  return at::from_blob(v.data(), {rows, cols}, at::kInt).to(at::kFloat);  // copies
}

void expect_shape(const at::Tensor& t, const std::string& name, at::IntArrayRef expected, const std::string& why) {
  if (t.sizes() != expected)
    throw Error("tensor '" + name + "' has shape " + shape_str(t.sizes()) + ", expected " + shape_str(expected) + " (" +
                why + ")");
}

at::Tensor dequantize_gptq(const model::WeightSource& src, const std::string& prefix, const QuantScheme& s) {
  const std::string qw_name = prefix + ".qweight", qz_name = prefix + ".qzeros", sc_name = prefix + ".scales",
                    gi_name = prefix + ".g_idx";
  const at::Tensor qweight = read(src, qw_name, 2);
  const at::Tensor scales = read(src, sc_name, 2);
  const at::Tensor qzeros = read(src, qz_name, 2);
  const int pf = 32 / s.bits;
  const int64_t out = qweight.size(1), in = qweight.size(0) * pf, ngroups = scales.size(0);
  const std::string why = s.describe() + " from " + s.source;
  expect_shape(scales, sc_name, {ngroups, out}, why);
  if (out % pf != 0) throw Error("tensor '" + qw_name + "': out_features " + std::to_string(out) +
                                 " is not a multiple of " + std::to_string(pf) + " (" + why + ")");
  expect_shape(qzeros, qz_name, {ngroups, out / pf}, why);
  at::Tensor g_idx;
  if (src.contains(gi_name)) {
    g_idx = read(src, gi_name, 1);
    expect_shape(g_idx, gi_name, {in}, why + "; in_features = qweight rows x " + std::to_string(pf));
    g_idx = g_idx.to(at::kLong);
    if (in > 0 && (g_idx.min().item<int64_t>() < 0 || g_idx.max().item<int64_t>() >= ngroups))
      throw Error("tensor '" + gi_name + "' has group indices outside [0, " + std::to_string(ngroups) + ")");
  } else {
    const int64_t gs = s.group_size > 0 ? s.group_size : in;
    const int64_t expected = (in + gs - 1) / gs;
    if (expected != ngroups)
      throw Error("tensor '" + sc_name + "' has " + std::to_string(ngroups) + " groups, but " + std::to_string(in) +
                  " input channels in groups of " + std::to_string(gs) + " make " + std::to_string(expected) + " (" +
                  why + ")");
    g_idx = at::div(at::arange(in, at::kLong), gs, "floor");
  }
  std::vector<int32_t> codes, zeros;
  try {
    codes = pack::gptq_unpack_qweight(int32_words(qweight, qw_name), out, in, s.bits);
    zeros = pack::gptq_unpack_qzeros(int32_words(qzeros, qz_name), out, ngroups, s.bits, s.gptq_v1);
  } catch (const std::invalid_argument& e) {
    throw Error("'" + prefix + "': " + e.what());
  }
  const at::Tensor q = codes_tensor(std::move(codes), out, in);         // [out, in]
  const at::Tensor z = codes_tensor(std::move(zeros), out, ngroups);    // [out, ngroups]
  const at::Tensor sc = scales.to(at::kFloat).t();                      // [out, ngroups]
  return (sc.index_select(1, g_idx) * (q - z.index_select(1, g_idx))).contiguous();
}

at::Tensor dequantize_awq(const model::WeightSource& src, const std::string& prefix, const QuantScheme& s) {
  const std::string qw_name = prefix + ".qweight", qz_name = prefix + ".qzeros", sc_name = prefix + ".scales";
  const at::Tensor qweight = read(src, qw_name, 2);
  const at::Tensor scales = read(src, sc_name, 2);
  const at::Tensor qzeros = read(src, qz_name, 2);
  const int64_t in = qweight.size(0), out = qweight.size(1) * 8;
  const std::string why = s.describe() + " from " + s.source;
  if (in % s.group_size != 0)
    throw Error("'" + prefix + "': in_features " + std::to_string(in) + " is not a multiple of the group size " +
                std::to_string(s.group_size) + " (" + why + ")");
  const int64_t ngroups = in / s.group_size;
  expect_shape(scales, sc_name, {ngroups, out}, why);
  expect_shape(qzeros, qz_name, {ngroups, out / 8}, why);
  std::vector<int32_t> codes, zeros;
  try {
    codes = pack::awq_unpack_rows(int32_words(qweight, qw_name), in, out);      // [in, out]
    zeros = pack::awq_unpack_rows(int32_words(qzeros, qz_name), ngroups, out);  // [ngroups, out]
  } catch (const std::invalid_argument& e) {
    throw Error("'" + prefix + "': " + e.what());
  }
  const at::Tensor q = codes_tensor(std::move(codes), in, out);
  const at::Tensor z = codes_tensor(std::move(zeros), ngroups, out);
  const at::Tensor g = at::div(at::arange(in, at::kLong), s.group_size, "floor");
  const at::Tensor sc = scales.to(at::kFloat);
  return (sc.index_select(0, g) * (q - z.index_select(0, g))).t().contiguous();
}

}  // namespace

at::Tensor dequantize_linear(const model::WeightSource& src, const std::string& prefix, const QuantScheme& scheme) {
  return scheme.method == QuantScheme::Method::Awq ? dequantize_awq(src, prefix, scheme)
                                                   : dequantize_gptq(src, prefix, scheme);
}

}  // namespace qf::eval
