// GPTQ method plugin (docs/gptq.md): quantizes each decoder layer group by group ("true sequential")
// with the host's calibration service, writes the dequantized weights back so the next groups and
// layers see the quantized model, and emits GPTQ v1 (sym) or v2 (asym) tensors.
#include <ATen/Functions.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "gptq_solver.hpp"
#include "quantforge/packing.hpp"
#include "quantforge/aten_dlpack.hpp"
#include "quantforge/json_writer.hpp"
#include "quantforge/plugin.hpp"

namespace {

using qf::sdk::PluginError;
namespace aten = qf::sdk::aten;

std::vector<int32_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kInt).contiguous();
  return std::vector<int32_t>(c.data_ptr<int32_t>(), c.data_ptr<int32_t>() + c.numel());
}

std::string num(double v, const char* f = "%.15g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class GptqMethod {
 public:
  explicit GptqMethod(qf::sdk::Session& session) : session_(session) {
    o_.bits = static_cast<int>(session.get_int("bits"));
    o_.group_size = session.get_int("group_size");
    o_.sym = session.get_bool("sym");
    o_.desc_act = session.get_bool("desc_act");
    o_.damp_percent = session.get_float("damp_percent");
    o_.static_groups = session.get_bool("static_groups");
    o_.damp_auto_increment = session.get_float("damp_auto_increment");
    o_.fp16_scales = true;  // the written weights equal what the fp16 `scales` in the file give back
    true_sequential_ = session.get_bool("true_sequential");
    rtn_fallback_ = session.get_bool("rtn_fallback");
    if (o_.bits == 3)
      throw std::invalid_argument("option bits=3: the GPTQ solver handles 3 bits but 3-bit GPTQ packing "
                                  "(the 10|1|10|1|10 word scheme) is not implemented; use bits 2, 4 or 8");
    if (o_.bits != 2 && o_.bits != 4 && o_.bits != 8)
      throw std::invalid_argument("option bits must be 2, 4 or 8, got " + std::to_string(o_.bits));
    if (o_.group_size == 0 || o_.group_size < -1)
      throw std::invalid_argument("option group_size must be positive or -1, got " + std::to_string(o_.group_size));
    if (!(o_.damp_percent >= 0.0 && o_.damp_percent < 1.0))
      throw std::invalid_argument("option damp_percent must be in [0, 1), got " + num(o_.damp_percent));
    if (!(o_.damp_auto_increment >= 0.0 && o_.damp_auto_increment < 1.0))
      throw std::invalid_argument("option damp_auto_increment must be in [0, 1), got " + num(o_.damp_auto_increment));
  }

  qf_method_requirements requirements() {
    return qf_method_requirements{sizeof(qf_method_requirements), /*needs_calibration=*/true, /*num_samples=*/0,
                                  /*seqlen=*/0, /*propagate_quantized=*/true};
  }

  void quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count) {
    const qf::sdk::Calibration calib = layer.calibration("gptq");  // every version has input_gram
    const std::vector<qf::sdk::LinearInfo> linears = layer.linears();
    const int64_t pf = 32 / o_.bits;
    for (const auto& l : linears)
      if (l.in_features % pf != 0 || l.out_features % pf != 0)
        throw std::invalid_argument(l.name + " [" + std::to_string(l.out_features) + ", " +
                                    std::to_string(l.in_features) + "]: " + std::to_string(o_.bits) +
                                    "-bit GPTQ packing needs in_features and out_features divisible by " +
                                    std::to_string(pf));

    // Sequential groups in order; one group with every linear when true_sequential is off.
    std::map<uint32_t, std::vector<const qf::sdk::LinearInfo*>> groups;
    for (const auto& l : linears) groups[true_sequential_ ? l.sequential_group : 0].push_back(&l);

    // A distributed run solves each Linear on one rank (round robin over the layer's Linears) and
    // shares the result; every rank then writes the same weights. One process solves them all.
    int32_t rank = 0, ranks = 1;
    if (const auto shape = calib.shape()) {
      rank = shape->rank;
      ranks = shape->ranks;
    }
    std::map<std::string, int32_t> owner;
    for (size_t k = 0; k < linears.size(); ++k) owner[linears[k].short_name] = static_cast<int32_t>(k % ranks);

    for (const auto& entry : groups) {
      const auto& members = entry.second;
      // All grams of the group before any write: the host recomputes inputs after a write.
      std::vector<at::Tensor> grams;
      std::vector<int64_t> tokens(members.size(), 0);
      std::vector<double> gram_seconds(members.size(), 0.0);
      for (size_t m = 0; m < members.size(); ++m) {
        const auto t0 = std::chrono::steady_clock::now();
        const int64_t in = members[m]->in_features;
        at::Tensor gram = at::zeros({in, in}, at::kFloat);
        tokens[m] = calib.input_gram(members[m]->short_name, aten::view(gram));
        grams.push_back(gram);
        gram_seconds[m] = seconds_since(t0);
      }
      // Each member's Hessian is fixed now: the owners solve their members side by side, then the
      // results are shared in member order and written.
      std::vector<SolvedLinear> solved(members.size());
      for (size_t m = 0; m < members.size(); ++m) {
        session_.stop_if_cancelled("gptq");
        if (owner[members[m]->short_name] == rank)
          solved[m] = solve_linear(layer, index, *members[m], grams[m], tokens[m], gram_seconds[m]);
        grams[m] = at::Tensor();
      }
      for (size_t m = 0; m < members.size(); ++m) {
        if (ranks > 1) share(calib, *members[m], owner[members[m]->short_name] == rank, solved[m]);
        apply_linear(layer, *members[m], solved[m]);
      }
    }
    if (!session_.progress("gptq", index + 1, count)) throw PluginError(QF_ERR_CANCELLED, "cancelled");
  }

  void finish() {
    const char* fmt = o_.sym ? "gptq" : "gptq_v2";  // asymmetric zeros are only lossless in v2 (docs/gptq.md#packing-v1-and-v2)
    qf::sdk::json::Writer json = qf::sdk::json::Writer::python_default();  // the text the host always got
    json.begin_object()
        .field("quant_method", "gptq")
        .field("bits", o_.bits)
        .field("group_size", o_.group_size)
        .field("desc_act", o_.desc_act)
        .field("sym", o_.sym)
        .field("true_sequential", true_sequential_)
        .field("damp_percent", o_.damp_percent)
        .field("static_groups", o_.static_groups)
        .field("checkpoint_format", fmt)
        .field("format", fmt);
    json.key("meta").begin_object().key("quantizer").begin_array().value("quantforge:0.1.0").end_array().end_object();
    json.end_object();
    session_.set_quantization_config(json.str());
    qf::sdk::log(QF_LOG_INFO, "totals " + num(t_gram_, "%.1f") + " s waiting for Hessian inputs (host), " +
                                  num(t_solve_, "%.1f") + " s solve, " + num(t_pack_, "%.1f") + " s pack+emit");
  }

 private:
  // What every rank needs of one solved Linear: the weights to write and the tensors to emit.
  struct SolvedLinear {
    at::Tensor dequantized;  // fp32 [out, in]
    at::Tensor qweight;      // int32 [in / pf, out], packed
    at::Tensor qzeros;       // int32 [ngroups, out / pf], packed
    at::Tensor scales;       // fp32 [out, ngroups]
    at::Tensor g_idx;        // int32 [in]
  };

  int64_t ngroups_of(const qf::sdk::LinearInfo& l) const {
    return o_.group_size > 0 ? (l.in_features + o_.group_size - 1) / o_.group_size : 1;
  }

  // The owner's result to every rank: all_reduce_sum of the owner's tensors and the others' zeros
  // (x + 0 is x, so the sum is the owner's values bit for bit; integers travel as int64).
  void share(const qf::sdk::Calibration& calib, const qf::sdk::LinearInfo& l, bool owner, SolvedLinear& s) const {
    const int64_t out = l.out_features, in = l.in_features, ngroups = ngroups_of(l), pf = 32 / o_.bits;
    auto send = [&](at::Tensor& t, std::vector<int64_t> shape, at::ScalarType type) {
      at::Tensor wire = owner ? t.to(type == at::kInt ? at::kLong : type).contiguous()
                              : at::zeros(shape, type == at::kInt ? at::kLong : type);
      if (owner && wire.sizes() != at::IntArrayRef(shape))
        throw PluginError(QF_ERR_INTERNAL, l.name + ": solved tensor shape differs from the shared one (a bug)");
      calib.all_reduce_sum(aten::view(wire));
      t = wire.to(type);
    };
    send(s.dequantized, {out, in}, at::kFloat);
    send(s.qweight, {in / pf, out}, at::kInt);
    send(s.qzeros, {ngroups, out / pf}, at::kInt);
    send(s.scales, {out, ngroups}, at::kFloat);
    send(s.g_idx, {in}, at::kInt);
  }

  void apply_linear(qf::sdk::Layer& layer, const qf::sdk::LinearInfo& l, const SolvedLinear& s) {
    const auto t1 = std::chrono::steady_clock::now();
    const at::Tensor dequantized = s.dequantized.contiguous();
    layer.write_weight(l.short_name, aten::view(dequantized));
    emit(l.name + ".qweight", s.qweight);
    emit(l.name + ".qzeros", s.qzeros);
    emit(l.name + ".scales", s.scales.t().contiguous().to(at::kHalf));
    emit(l.name + ".g_idx", s.g_idx);
    t_pack_ += seconds_since(t1);
  }

  SolvedLinear solve_linear(qf::sdk::Layer& layer, uint32_t index, const qf::sdk::LinearInfo& l, const at::Tensor& gram,
                            int64_t tokens, double gram_seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    const qf::sdk::MatrixView wv = layer.read_weight(l.short_name);
    if (wv.rows != l.out_features || wv.cols != l.in_features)
      throw PluginError(QF_ERR_INTERNAL, l.name + ": weight view shape differs from linear_info (a bug in the host)");
    const at::Tensor W = at::from_blob(const_cast<float*>(wv.data), {wv.rows, wv.cols}, at::kFloat).clone();

    qf::gptq::SolverResult r;
    bool fell_back = false;
    try {
      if (tokens <= 0) throw qf::gptq::CholeskyError(l.name + ": no calibration tokens reached this linear");
      r = qf::gptq::fasterquant(W, qf::gptq::hessian_from_gram(gram, tokens), o_, l.name);
    } catch (const qf::gptq::CholeskyError& e) {
      if (!rtn_fallback_)
        throw PluginError(QF_ERR_INVALID_ARGUMENT, "layer " + std::to_string(index) + " " + e.what());
      qf::sdk::log(QF_LOG_WARN, std::string(e.what()) + " -> falling back to RTN for this linear (rtn_fallback=true)");
      r = qf::gptq::rtn(W, o_);
      fell_back = true;
    }
    const double solve_seconds = seconds_since(t0);

    const auto t1 = std::chrono::steady_clock::now();
    SolvedLinear s;
    s.dequantized = r.dequantized.contiguous();
    const int64_t out = l.out_features, in = l.in_features, ngroups = r.scales.size(1), pf = 32 / o_.bits;
    if (ngroups != ngroups_of(l))
      throw PluginError(QF_ERR_INTERNAL, l.name + ": the solver made " + std::to_string(ngroups) + " groups, expected " +
                                             std::to_string(ngroups_of(l)));
    s.qweight = at::tensor(qf::pack::gptq_pack_qweight(to_vector(r.codes), out, in, o_.bits), at::kInt)
                    .view({in / pf, out});
    s.qzeros = at::tensor(qf::pack::gptq_pack_qzeros(to_vector(r.zeros), out, ngroups, o_.bits, o_.sym), at::kInt)
                   .view({ngroups, out / pf});
    s.scales = r.scales.contiguous();
    s.g_idx = r.g_idx.to(at::kInt).contiguous();
    const double pack_seconds = seconds_since(t1);
    t_gram_ += gram_seconds;
    t_solve_ += solve_seconds;
    t_pack_ += pack_seconds;

    std::string extra;
    if (r.damp_retries > 0) extra += " damp_percent=" + num(r.damp_percent_used, "%.4g");
    if (r.dead_columns > 0) extra += " dead_columns=" + std::to_string(r.dead_columns);
    if (fell_back) extra += " (RTN fallback)";
    qf::sdk::log(QF_LOG_INFO, "layer " + std::to_string(index) + " " + l.short_name + ": loss=" + num(r.loss, "%.6g") +
                                  " time=" + num(gram_seconds + solve_seconds + pack_seconds, "%.3f") + "s (gram " +
                                  num(gram_seconds, "%.3f") + "s, solve " + num(solve_seconds, "%.3f") + "s, pack " +
                                  num(pack_seconds, "%.3f") + "s)" + extra);
    return s;
  }

  void emit(const std::string& name, const at::Tensor& t) const {
    const at::Tensor values = t.contiguous();
    session_.emit(name, aten::view(values));
  }

  qf::sdk::Session& session_;
  qf::gptq::SolverOptions o_;
  bool true_sequential_ = true;
  bool rtn_fallback_ = false;
  double t_gram_ = 0, t_solve_ = 0, t_pack_ = 0;
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "bits", QF_OPTION_INT, "8", "bits per weight: 2, 4 or 8"},
    {sizeof(qf_option_desc), "group_size", QF_OPTION_INT, "128", "input channels per scale; -1 = one per row"},
    {sizeof(qf_option_desc), "sym", QF_OPTION_BOOL, "true", "symmetric grid (v1 checkpoint); false writes gptq_v2"},
    {sizeof(qf_option_desc), "desc_act", QF_OPTION_BOOL, "false", "act-order: quantize columns by descending diag(H)"},
    {sizeof(qf_option_desc), "damp_percent", QF_OPTION_FLOAT, "0.1", "dampening: fraction of mean(diag(H)) added"},
    {sizeof(qf_option_desc), "static_groups", QF_OPTION_BOOL, "false", "group params from the original weight"},
    {sizeof(qf_option_desc), "true_sequential", QF_OPTION_BOOL, "true",
     "quantize the layer's sequential groups in order, recomputing inputs in between"},
    {sizeof(qf_option_desc), "damp_auto_increment", QF_OPTION_FLOAT, "0.01",
     "added to damp_percent after a Cholesky failure, retried while below 1"},
    {sizeof(qf_option_desc), "rtn_fallback", QF_OPTION_BOOL, "false",
     "a linear whose Hessian stays singular falls back to RTN (else the run fails)"},
};

}  // namespace

QF_DEFINE_METHOD_PLUGIN(GptqMethod, "gptq", "0.1.0", "GPTQ (Frantar et al.): Hessian-aware per-group quantization",
                        kOptions)
