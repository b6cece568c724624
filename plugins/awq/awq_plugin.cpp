// AWQ method plugin (docs/awq.md): per decoder layer, search activation-aware scales for every
// scaling group on the original weights, apply them through the host, search clipping thresholds,
// then quantize every Linear to 4-bit with zero point and emit AutoAWQ GEMM tensors.
#include <cctype>
#include <cstddef>
#include <chrono>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/TensorOperators.h>

#include "awq_core.hpp"
#include "quantforge/quantizer.hpp"
#include "quantforge/aten_dlpack.hpp"
#include "quantforge/json_writer.hpp"
#include "quantforge/plugin.hpp"

namespace {

using qf::sdk::PluginError;
using qf::sdk::Tensor;
namespace aten = qf::sdk::aten;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

struct Group : qf::sdk::ScalingGroup {
  explicit Group(qf::sdk::ScalingGroup g) : qf::sdk::ScalingGroup(std::move(g)) {}
  bool single_linear() const { return linears.size() == 1 && (inspect.empty() || inspect == linears[0]); }
};

// What a group's scale search needs from its input, taken from the original layer.
struct SearchInputs {
  at::Tensor x_mean;  // per-channel mean |x|
  at::Tensor x;       // [tokens, in] for groups whose loss runs a module
  at::Tensor gram;    // sum of x x^T, for single-Linear groups (exact quadratic loss)
  int64_t tokens = 0;
};

// ------------------------------------------------------------------ the method

class AwqMethod {
 public:
  explicit AwqMethod(qf::sdk::Session& session) : session_(session) {
    cfg_.w_bit = static_cast<int>(session.get_int("w_bit"));
    cfg_.group_size = session.get_int("q_group_size");
    cfg_.zero_point = session.get_bool("zero_point");
    version_ = session.get_string("version");
    for (auto& c : version_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    duo_scaling_ = session.get_bool("duo_scaling");
    n_grid_ = session.get_int("n_grid");
    apply_clip_ = session.get_bool("apply_clip");
    max_calib_samples_ = session.get_int("max_calib_samples");
    max_calib_seq_len_ = session.get_int("max_calib_seq_len");  // asked for; the host decides
    not_convert_ = split_names(session.get_string("modules_to_not_convert"));

    if (version_ == "gemv")
      throw PluginError(QF_ERR_UNSUPPORTED, "option version = \"gemv\" is not supported by the awq plugin; use \"gemm\"");
    if (version_ != "gemm")
      throw std::invalid_argument("option version must be \"gemm\", got \"" + version_ + "\"");
    if (cfg_.w_bit != 4)
      throw std::invalid_argument("option w_bit must be 4 (AutoAWQ GEMM packs 4-bit codes), got " +
                                  std::to_string(cfg_.w_bit));
    if (!cfg_.zero_point)
      throw std::invalid_argument("option zero_point = false is not supported: the AWQ GEMM format stores zero points");
    if (cfg_.group_size <= 0)
      throw std::invalid_argument("option q_group_size must be positive, got " + std::to_string(cfg_.group_size));
    if (n_grid_ < 1 || n_grid_ > 1000)
      throw std::invalid_argument("option n_grid must be in [1, 1000], got " + std::to_string(n_grid_));
    if (max_calib_samples_ < 1)
      throw std::invalid_argument("option max_calib_samples must be positive, got " + std::to_string(max_calib_samples_));
    if (max_calib_seq_len_ < 1)
      throw std::invalid_argument("option max_calib_seq_len must be positive, got " + std::to_string(max_calib_seq_len_));
  }

  qf_method_requirements requirements() {
    qf_method_requirements r{};
    r.struct_size = sizeof(r);
    r.needs_calibration = true;
    r.num_samples = max_calib_samples_;
    r.seqlen = max_calib_seq_len_;
    r.propagate_quantized = false;  // AutoAWQ: next layer sees the ORIGINAL layer's output
    return r;
  }

  void quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count);

  void finish() {
    // AutoAWQ's to_transformers_dict keys.
    qf::sdk::json::Writer json = qf::sdk::json::Writer::python_default();  // the text the host always got
    json.begin_object().field("bits", cfg_.w_bit).field("group_size", cfg_.group_size);
    if (not_convert_.empty())
      json.field("modules_to_not_convert", nullptr);
    else
      json.field_array("modules_to_not_convert", not_convert_.begin(), not_convert_.end());
    json.field("quant_method", "awq").field("version", version_).field("zero_point", true).end_object();
    session_.set_quantization_config(json.str());
    qf::sdk::log(QF_LOG_INFO, "total " + std::to_string(t_capture_) + " s capture, " + std::to_string(t_search_) +
                                  " s scale search, " + std::to_string(t_clip_) + " s clip search, " +
                                  std::to_string(t_quant_) + " s quantize+emit");
  }

 private:
  at::Tensor search_group(qf::sdk::Layer& layer, const qf::sdk::Calibration& cal, const Group& g,
                          const SearchInputs& in,
                          const std::map<std::string, at::Tensor>& w_orig,
                          const std::map<std::string, qf::sdk::LinearInfo>& info, const std::string& lprefix);

  // The clip search on every rank's sampled tokens: the per-group second moments are summed.
  at::Tensor search_clip_across_ranks(const qf::sdk::Calibration& cal, const at::Tensor& w,
                                      const at::Tensor& sample) const {
    at::Tensor sums = qf::awq::clip_sample_gram_sums(sample, cfg_.group_size).to(at::kDouble);
    at::Tensor count = at::full({1}, sample.size(0), at::kLong);
    all_reduce(cal, sums);
    all_reduce(cal, count);
    const at::Tensor grams = (sums / static_cast<double>(count.item<int64_t>())).to(at::kFloat);
    return qf::awq::search_clip_with_grams(w, grams, cfg_);
  }

  bool excluded(const std::string& short_name) const {
    for (const auto& n : not_convert_)
      if (short_name.find(n) != std::string::npos) return true;
    return false;
  }

  // ---- host calls, through the SDK's wrapper; views become ATen tensors without copies
  at::Tensor read_weight(qf::sdk::Layer& layer, const std::string& name) const {
    const qf::sdk::MatrixView v = layer.read_weight(name);
    return at::from_blob(const_cast<float*>(v.data), {v.rows, v.cols}, at::kFloat).clone();
  }
  void write_weight(qf::sdk::Layer& layer, const std::string& name, const at::Tensor& w) const {
    const at::Tensor values = w.to(at::kFloat).contiguous();
    layer.write_weight(name, aten::view(values));
  }
  // The host's copy: invalid once weights change.
  at::Tensor captured_input(const qf::sdk::Calibration& cal, const std::string& name) const {
    return aten::borrow(cal.captured_input(name), "the captured input of " + name);
  }
  // Sum of x x^T over the calibration tokens of the Linear's input, from the host (which reuses a
  // captured input and accumulates bf16 inputs with fp32 accumulation on AMX).
  at::Tensor input_gram(const qf::sdk::Calibration& cal, const std::string& name, int64_t in, int64_t* tokens) const {
    at::Tensor gram = at::zeros({in, in}, at::kFloat);
    *tokens = cal.input_gram(name, aten::view(gram));
    return gram;
  }
  // Sums over the ranks of a distributed run (nothing to do in one process): every rank must
  // decide the same scales and clips, so the statistics they rest on are totals.
  void all_reduce(const qf::sdk::Calibration& cal, at::Tensor& t) const {
    if (!distributed_) return;
    t = t.contiguous();
    cal.all_reduce_sum(aten::view(t));
  }
  // The host's answer to "go on?": false once the user interrupted the run.
  void stop_if_cancelled() const { session_.stop_if_cancelled("awq"); }
  // Runs `module` over all of `x` (whole calibration blocks) into a fresh [tokens, out_width]
  // tensor; the host works through it a few blocks at a time and stops on an interrupt.
  // `reuse`, when given, keeps the output buffer between calls: the search runs a module 20 times on the
  // same rows, and a fresh [tokens, width] fp32 tensor each time (235 MB on Qwen2.5-0.5B shapes) costs
  // more in page faults than the copy into it.
  at::Tensor run_module(const qf::sdk::Calibration& cal, const std::string& module, const at::Tensor& x,
                        int64_t out_width, at::Tensor* reuse = nullptr) const {
    at::Tensor y = reuse && reuse->defined() && reuse->size(0) == x.size(0) && reuse->size(1) == out_width
                       ? *reuse
                       : at::empty({x.size(0), out_width}, at::kFloat);
    if (reuse) *reuse = y;
    const at::Tensor xc = x.contiguous();
    cal.run_module(module, aten::view(xc), aten::view(y));
    return y;  // may hold inf where the module overflowed: the loss clamps as it reads
  }
  void scale_previous_op(const qf::sdk::Calibration& cal, const Group& g, const at::Tensor& s) const {
    const at::Tensor scales = s.to(at::kFloat).contiguous();
    cal.scale_previous_op(g.prev_op, g.linears, aten::view(scales));
  }

  void emit(const std::string& prefix, const qf::awq::QuantizedWeight& q) const {
    const qf::awq::GemmTensors g = qf::awq::pack_gemm(q, prefix + ".weight");
    session_.emit(prefix + ".qweight", Tensor::from_vector(g.qweight, {g.in, g.out / 8}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".qzeros", Tensor::from_vector(g.qzeros, {g.ngroups, g.out / 8}, qf::sdk::dl_int(32)));
    session_.emit(prefix + ".scales", Tensor::from_vector(g.scales, {g.ngroups, g.out}, qf::sdk::dl_float(16)));
  }

  qf::sdk::Session& session_;
  qf::awq::QuantConfig cfg_;
  std::string version_;
  bool duo_scaling_ = true;
  int64_t n_grid_ = 20;
  bool apply_clip_ = true;
  // Where this process's calibration rows lie among all of them (a distributed run's share).
  bool distributed_ = false;
  int64_t first_row_ = 0, all_rows_ = -1;
  int64_t max_calib_samples_ = 128;
  int64_t max_calib_seq_len_ = 512;
  std::vector<std::string> not_convert_;
  double t_capture_ = 0, t_search_ = 0, t_clip_ = 0, t_quant_ = 0;
};

void AwqMethod::quantize_layer(qf::sdk::Layer& layer, uint32_t index, uint32_t count) {
  const qf::sdk::Calibration cal = layer.calibration("awq");
  const std::string lprefix = "layer " + std::to_string(index) + ": ";
  if (const auto shape = cal.shape()) {  // hosts before ABI 1.2 do not say
    if (index == 0)
      qf::sdk::log(QF_LOG_INFO, "calibrating on " + std::to_string(shape->blocks) + " blocks of " +
                                    std::to_string(shape->block_length) + " tokens" +
                                    (shape->all_blocks != shape->blocks
                                         ? " (blocks " + std::to_string(shape->first_block) + ".. of " +
                                               std::to_string(shape->all_blocks) + " on this rank)"
                                         : std::string()));
    distributed_ = shape->all_blocks != shape->blocks;
    first_row_ = shape->first_block * shape->block_length;
    all_rows_ = shape->all_blocks * shape->block_length;
  }

  // Which linears are converted; every converted one must have whole groups and 8 | out.
  std::map<std::string, qf::sdk::LinearInfo> info;
  std::vector<std::string> order;
  for (const auto& l : layer.linears()) {
    info[l.short_name] = l;
    order.push_back(l.short_name);
    if (excluded(l.short_name)) continue;
    // A NaN or Inf weight would poison every loss of the search; say so, naming the tensor.
    const qf::sdk::MatrixView w = layer.read_weight(l.short_name);
    qf::quant::require_finite_weight(w.data, w.rows, w.cols, l.name + ".weight");
    qf::awq::check_group_divisible(l.in_features, cfg_.group_size, l.name + ".weight");
    if (l.out_features % 8 != 0)
      throw std::invalid_argument(l.name + ".weight: out_features " + std::to_string(l.out_features) +
                                  " is not a multiple of 8 (AWQ GEMM packs 8 output columns per int32)");
  }
  std::vector<Group> all_groups;
  for (auto& g : cal.scaling_groups()) all_groups.emplace_back(std::move(g));
  if (all_groups.empty())
    throw std::invalid_argument(lprefix + "the model's architecture defines no AWQ scaling groups; AWQ cannot "
                                          "quantize it (use rtn or gptq)");
  std::vector<Group> groups;
  for (const auto& g : all_groups) {
    bool skip = excluded(g.prev_op);
    for (const auto& l : g.linears) skip = skip || excluded(l) || !info.count(l);
    if (skip)
      qf::sdk::log(QF_LOG_INFO, lprefix + "skipping the scaling group after " + g.prev_op +
                                    " (a linear is in modules_to_not_convert)");
    else
      groups.push_back(g);
  }

  // ---- 1+2. per distinct input, in layer order: capture it from the ORIGINAL layer, keep what the
  // search needs and search the groups it feeds right away, so only one group's data is alive at a
  // time (peak memory: the largest input, not all of them). Each search restores the original
  // weights exactly, so later captures and searches see the original layer, as AutoAWQ's do.
  std::map<std::string, at::Tensor> w_orig;
  for (const auto& g : groups)
    for (const auto& l : g.linears)
      if (!w_orig.count(l)) w_orig[l] = read_weight(layer, l);
  std::vector<at::Tensor> scales(groups.size());
  std::map<std::string, at::Tensor> clip_x;
  for (const auto& name : order) {
    const bool clip = apply_clip_ && !excluded(name) && qf::awq::clip_eligible(name);
    std::vector<size_t> fed;  // groups whose first linear reads this input
    for (size_t i = 0; i < groups.size(); ++i)
      if (groups[i].linears[0] == name) fed.push_back(i);
    if (!clip && fed.empty()) continue;
    auto t0 = Clock::now();
    std::vector<SearchInputs> data(fed.size());
    {
      const at::Tensor x = captured_input(cal, name);
      at::Tensor x_mean;
      if (!fed.empty() && !distributed_) {
        x_mean = qf::awq::activation_mean(x);
      } else if (!fed.empty()) {  // the mean over every rank's tokens
        at::Tensor sum = qf::awq::activation_abs_sum(x);
        all_reduce(cal, sum);
        x_mean = (sum / static_cast<double>(all_rows_)).to(at::kFloat);
      }
      for (size_t k = 0; k < fed.size(); ++k) {
        data[k].x_mean = x_mean;
        data[k].tokens = x.size(0);
        if (groups[fed[k]].single_linear())  // the host computes it from the input it already holds
          data[k].gram = input_gram(cal, name, x.size(1), &data[k].tokens);
        else
          data[k].x = x.clone();
      }
      if (clip) clip_x[name] = qf::awq::clip_token_sample(x, 512, first_row_, all_rows_);
    }
    cal.release_captured(name);
    t_capture_ += seconds_since(t0);
    t0 = Clock::now();
    for (size_t k = 0; k < fed.size(); ++k) {
      scales[fed[k]] = search_group(layer, cal, groups[fed[k]], data[k], w_orig, info, lprefix);
      data[k] = SearchInputs{};  // free the copies before the next capture
    }
    t_search_ += seconds_since(t0);
  }

  // ---- 3. apply the scales in group order (host scales prev op and linears; we follow on inputs)
  for (size_t i = 0; i < groups.size(); ++i) {
    scale_previous_op(cal, groups[i], scales[i]);
    for (const auto& l : groups[i].linears) {
      auto it = clip_x.find(l);
      if (it != clip_x.end()) it->second.div_(scales[i].view({1, -1}));
    }
  }

  // ---- 4. clipping search on the scaled weights and inputs
  auto t0 = Clock::now();
  std::map<std::string, at::Tensor> final_w;
  for (const auto& name : order) {
    if (excluded(name)) continue;
    stop_if_cancelled();
    at::Tensor w = read_weight(layer, name);
    auto it = clip_x.find(name);
    if (it != clip_x.end()) {
      const at::Tensor max_val = distributed_ ? search_clip_across_ranks(cal, w, it->second)
                                              : qf::awq::search_clip(w, it->second, cfg_);
      w = qf::awq::apply_clip(w, max_val, cfg_.group_size);
    }
    final_w[name] = w;
  }
  clip_x.clear();
  t_clip_ += seconds_since(t0);

  // ---- 5. quantize, write back, emit
  t0 = Clock::now();
  for (const auto& name : order) {
    auto it = final_w.find(name);
    if (it == final_w.end()) continue;
    const qf::awq::QuantizedWeight q = qf::awq::pseudo_quantize_fp16(it->second, cfg_, info[name].name + ".weight");
    write_weight(layer, name, q.w_dq);
    emit(info[name].name, q);
  }
  t_quant_ += seconds_since(t0);

  if (!session_.progress("awq", index + 1, count)) throw PluginError(QF_ERR_CANCELLED, "cancelled");
}

// Searches one scaling group's scales on the original weights (which it restores exactly) and logs
// the loss curve; `in` holds the group's input statistics from the original layer.
at::Tensor AwqMethod::search_group(qf::sdk::Layer& layer, const qf::sdk::Calibration& cal, const Group& g,
                                   const SearchInputs& in,
                                   const std::map<std::string, at::Tensor>& w_orig,
                                   const std::map<std::string, qf::sdk::LinearInfo>& info, const std::string& lprefix) {
  const auto t_group = Clock::now();
  std::vector<at::Tensor> ws;
  for (const auto& l : g.linears) ws.push_back(w_orig.at(l));
  const at::Tensor w_mean = qf::awq::weight_mean(ws, cfg_.group_size);
  qf::awq::CandidateLoss loss;
  at::Tensor y_ref, candidate_out;
  if (g.single_linear()) {
    loss = [&](const std::vector<at::Tensor>& c) {
      stop_if_cancelled();
      return qf::awq::gram_loss(c[0], ws[0], in.gram, in.tokens);
    };
  } else {
    const std::string module = g.inspect.empty() ? g.linears[0] : g.inspect;
    const int64_t width = info.count(module) ? info.at(module).out_features : in.x.size(1);
    y_ref = run_module(cal, module, in.x, width);
    loss = [&, module, width](const std::vector<at::Tensor>& c) {
      for (size_t j = 0; j < c.size(); ++j) write_weight(layer, g.linears[j], c[j]);
      const at::Tensor yq = run_module(cal, module, in.x, width, &candidate_out);
      if (!distributed_) return qf::awq::mse(y_ref, yq);
      at::Tensor sum = at::full({1}, qf::awq::sum_squared_diff(y_ref, yq), at::kDouble);
      all_reduce(cal, sum);  // the mean over every rank's tokens
      return sum.item<double>() / (static_cast<double>(all_rows_) * static_cast<double>(width));
    };
  }
  const auto r = qf::awq::search_scales(ws, in.x_mean, w_mean, loss, static_cast<int>(n_grid_), duo_scaling_,
                                        cfg_);
  if (!g.single_linear())
    for (size_t j = 0; j < ws.size(); ++j) write_weight(layer, g.linears[j], ws[j]);  // restore exactly
  std::ostringstream curve;  // the whole grid, so a user can see how flat the minimum is
  for (double l : r.losses) curve << ' ' << l / r.best_loss;
  qf::sdk::log(QF_LOG_DEBUG, lprefix + g.prev_op + " -> " + g.linears[0] + (g.linears.size() > 1 ? ",..." : "") +
                                 ": searched in " + std::to_string(seconds_since(t_group)) + " s, best ratio " +
                                 std::to_string(r.best_ratio) + ", loss " +
                                 std::to_string(r.best_loss) + "; loss / best over the grid:" + curve.str());
  return r.scales;
}

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "w_bit", QF_OPTION_INT, "4", "bits per weight (AutoAWQ GEMM: 4)"},
    {sizeof(qf_option_desc), "q_group_size", QF_OPTION_INT, "128", "input channels per scale and zero point"},
    {sizeof(qf_option_desc), "zero_point", QF_OPTION_BOOL, "true", "asymmetric grid with a zero point (GEMM: true)"},
    {sizeof(qf_option_desc), "version", QF_OPTION_STRING, "\"gemm\"", "packing: \"gemm\" (gemv is not supported)"},
    {sizeof(qf_option_desc), "duo_scaling", QF_OPTION_BOOL, "true",
     "scales from activation and weight means (false: activation only)"},
    {sizeof(qf_option_desc), "n_grid", QF_OPTION_INT, "20", "ratios tried by the scale search"},
    {sizeof(qf_option_desc), "apply_clip", QF_OPTION_BOOL, "true", "search clipping thresholds (not for q/k)"},
    {sizeof(qf_option_desc), "max_calib_samples", QF_OPTION_INT, "128", "calibration documents"},
    {sizeof(qf_option_desc), "max_calib_seq_len", QF_OPTION_INT, "512",
     "tokens per calibration block asked of the host (--seqlen overrides it)"},
    {sizeof(qf_option_desc), "modules_to_not_convert", QF_OPTION_STRING, "\"\"",
     "comma-separated linear names (or substrings) left unquantized"},
};

}  // namespace

QF_DEFINE_METHOD_PLUGIN(AwqMethod, "awq", "0.1.0",
                        "AWQ: activation-aware 4-bit weight quantization, AutoAWQ GEMM checkpoints", kOptions)
