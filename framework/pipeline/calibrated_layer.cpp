#include "pipeline/calibrated_layer.hpp"

#include <ATen/ATen.h>

#include <array>
#include <chrono>
#include <cstring>

#include "common/error.hpp"
#include "pipeline/dl_views.hpp"
#include "pipeline/gram.hpp"
#include "quantforge/struct_copy.hpp"

namespace qf::pipeline {
namespace {

uint32_t sequential_group_of(const model::Architecture& arch, const std::string& short_name) {
  for (size_t g = 0; g < arch.gptq_groups.size(); ++g)
    for (const auto& n : arch.gptq_groups[g])
      if (n == short_name) return static_cast<uint32_t>(g);
  return static_cast<uint32_t>(arch.gptq_groups.size());
}

}  // namespace

CalibratedLayer::CalibratedLayer(model::DecoderLayer& layer, const model::Architecture& arch, const at::Tensor& inputs,
                                 std::string prefix, int64_t chunk, PhaseTimes* phases,
                                 std::shared_ptr<ForwardStateCache> states)
    : layer_(layer),
      inputs_(inputs),
      prefix_(std::move(prefix)),
      chunk_(std::max<int64_t>(1, chunk)),
      phases_(phases),
      states_(states ? std::move(states) : std::make_shared<ForwardStateCache>(INT64_MAX)) {
  states_->clear();
  for (const auto& l : layer_.linears())
    linears_.push_back(host::LinearDesc{prefix_ + l.name, l.name, l.in_features, l.out_features, l.has_bias,
                                        sequential_group_of(arch, l.name)});
  groups_ = layer_.awq_groups();
  for (const auto& g : groups_) {
    group_names_.emplace_back();
    for (const auto& n : g.linears) group_names_.back().push_back(n.c_str());
  }
}

const host::LinearDesc& CalibratedLayer::find(const std::string& short_name) const {
  for (const auto& l : linears_)
    if (l.short_name == short_name) return l;
  throw host::ServiceError(QF_ERR_NOT_FOUND, "layer " + prefix_ + " has no linear '" + short_name + "'");
}

void CalibratedLayer::stop_if_cancelled() const {
  if (cancelled_ && cancelled_()) throw Cancelled("cancelled");
}

void CalibratedLayer::stale(int changed) {
  // Input group g's input depends on the weights of the groups before it only.
  auto drop_after_change = [&](auto& by_linear) {
    for (auto i = by_linear.begin(); i != by_linear.end();)
      i = changed < 0 || layer_.input_group_of(i->first) > changed ? by_linear.erase(i) : std::next(i);
  };
  drop_after_change(captured_);
  drop_after_change(grams_);
  drop_after_change(gram_tokens_);
  weight_views_.clear();  // handed-out copies are valid until the next write (the ABI's promise)
  bias_views_.clear();
}

DLTensor CalibratedLayer::read_weight(const std::string& short_name) {
  find(short_name);
  auto it = weight_views_.find(short_name);
  if (it == weight_views_.end())
    it = weight_views_.emplace(short_name, layer_.weight(short_name).to(at::kFloat).contiguous().clone()).first;
  return view_of(it->second);
}

DLTensor CalibratedLayer::read_bias(const std::string& short_name) {
  const host::LinearDesc& d = find(short_name);
  if (!d.has_bias) throw host::ServiceError(QF_ERR_NOT_FOUND, d.name + " has no bias");
  auto it = bias_views_.find(short_name);
  if (it == bias_views_.end())
    it = bias_views_.emplace(short_name, layer_.bias(short_name).to(at::kFloat).contiguous().clone()).first;
  return view_of(it->second);
}

void CalibratedLayer::write_weight(const std::string& short_name, const DLTensor& weight) {
  const host::LinearDesc& d = find(short_name);
  const at::Tensor w = borrow_dl(weight, d.name);
  if (w.dim() != 2 || w.size(0) != d.out_features || w.size(1) != d.in_features)
    throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, d.name + ": written weight has shape " + c10::str(w.sizes()) +
                                                          ", expected [" + std::to_string(d.out_features) + ", " +
                                                          std::to_string(d.in_features) + "]");
  const int group = layer_.input_group_of(short_name);
  states_->before_write(short_name, group, layer_.weight(short_name));
  layer_.set_weight(short_name, w);
  states_->after_write(short_name, layer_.weight(short_name));
  replaced_.insert(d.name + ".weight");
  stale(group);
}

void CalibratedLayer::forward_to(int point, const std::function<void(const at::Tensor&)>& use) {
  using Slot = ForwardStateCache::Slot;
  const at::Tensor kept_a = states_->usable(ForwardStateCache::kAttention);
  const at::Tensor kept_r = states_->usable(ForwardStateCache::kResidual);
  const at::Tensor kept_act = states_->usable(ForwardStateCache::kActivation);
  // The furthest point reached before whose state (with what it still needs) is kept.
  int start = 0;
  if (point >= 1 && kept_a.defined()) start = 1;
  if (point >= 2 && kept_r.defined()) start = 2;
  if (point == 3 && kept_act.defined()) start = 3;
  if (point == kOutput && kept_act.defined() && kept_r.defined()) start = 3;

  // Slot k holds the state at point k + 1; it is recomputed when this walk passes that point.
  std::array<at::Tensor, ForwardStateCache::kSlots> filling;
  std::array<bool, ForwardStateCache::kSlots> fills{};
  for (int k = 0; k < ForwardStateCache::kSlots; ++k) fills[k] = start <= k && point >= k + 1;
  auto keep = [&](int k, int64_t b0, const at::Tensor& value) {
    if (!fills[k]) return;
    if (b0 == 0)
      filling[k] = states_->begin_fill(static_cast<Slot>(k), {inputs_.size(0), value.size(1), value.size(2)},
                                      value.scalar_type());
    if (filling[k].defined()) filling[k].narrow(0, b0, value.size(0)).copy_(value);
  };

  for (int64_t b0 = 0; b0 < inputs_.size(0); b0 += chunk_) {
    stop_if_cancelled();
    const int64_t b1 = std::min(b0 + chunk_, inputs_.size(0));
    const at::Tensor h = inputs_.slice(0, b0, b1).to(layer_.dtype());
    at::Tensor a, r, act;
    if (start == 0) {
      const at::Tensor x = layer_.attention_input(h);
      if (point == 0) {
        use(x);
        continue;
      }
      a = layer_.attention_core(x);
      work_.attention += b1 - b0;
      keep(ForwardStateCache::kAttention, b0, a);
    } else if (start == 1) {
      a = kept_a.slice(0, b0, b1);
    }
    if (point == 1) {
      use(a);
      continue;
    }
    if (start <= 1) {
      r = layer_.attention_residual(h, a);
      work_.attention_out += b1 - b0;
      keep(ForwardStateCache::kResidual, b0, r);
    } else if (kept_r.defined()) {
      r = kept_r.slice(0, b0, b1);
    }
    if (start <= 2) {
      const at::Tensor x2 = layer_.mlp_input(r);
      if (point == 2) {
        use(x2);
        continue;
      }
      act = layer_.mlp_activation(x2);
      work_.mlp += b1 - b0;
      keep(ForwardStateCache::kActivation, b0, act);
    } else {
      act = kept_act.slice(0, b0, b1);
    }
    if (point == 3) {
      use(act);
      continue;
    }
    use(layer_.mlp_residual(r, act));
    work_.mlp_out += b1 - b0;
  }
  for (int k = 0; k < ForwardStateCache::kSlots; ++k)
    if (fills[k]) states_->commit(static_cast<Slot>(k));
}

std::vector<std::string> CalibratedLayer::capture_each_chunk(const std::string& short_name,
                                                             const std::function<void(const at::Tensor&)>& use) {
  const int point = layer_.input_group_of(short_name);
  forward_to(point, [&](const at::Tensor& input) { use(input.reshape({-1, input.size(-1)})); });
  return layer_.input_group(point);
}

DLTensor CalibratedLayer::captured_input(const std::string& short_name) {
  find(short_name);
  auto it = captured_.find(short_name);
  if (it != captured_.end()) return view_of(it->second);
  ScopedPhase timed(phases_, "capture forwards");
  // Chunks go straight into one preallocated fp32 matrix: collecting them and concatenating would
  // hold two full copies at once (2.5 GB for a Qwen2.5-0.5B down_proj input on 128 x 512 tokens).
  const int64_t tokens = inputs_.size(0) * inputs_.size(1);
  at::Tensor all;
  int64_t row = 0;
  const auto sharing = capture_each_chunk(short_name, [&](const at::Tensor& x) {
    if (!all.defined()) all = at::empty({tokens, x.size(1)}, x.options().dtype(at::kFloat));
    all.narrow(0, row, x.size(0)).copy_(x);
    row += x.size(0);
  });
  QF_ASSERT(row == tokens, "captured " + std::to_string(row) + " rows of " + std::to_string(tokens));
  for (const auto& n : sharing) captured_[n] = all;
  return view_of(captured_.at(short_name));
}

DLTensor CalibratedLayer::input_gram(const std::string& short_name, int64_t* tokens) {
  const host::LinearDesc& d = find(short_name);
  auto it = grams_.find(short_name);
  if (it == grams_.end()) {
    // Each piece of `granule_` blocks gets its own fp32 product, and the pieces are summed in fp64,
    // which is exact for all but extreme spreads of magnitude: the Gram matrix does not depend on
    // how the blocks are split into forward chunks or over the ranks of a distributed run.
    at::Tensor total = at::zeros({d.in_features, d.in_features}, at::kDouble);
    at::Tensor piece = at::empty({d.in_features, d.in_features}, at::kFloat);
    const int64_t piece_rows = granule_ * inputs_.size(1);
    int64_t filled = 0;  // rows in the current piece: chunks smaller than a piece fill it in turns
    auto add_rows = [&](const at::Tensor& rows) {  // [tokens, in], in block order
      for (int64_t r = 0; r < rows.size(0);) {
        const int64_t take = std::min(piece_rows - filled, rows.size(0) - r);
        if (filled == 0) piece.zero_();
        accumulate_gram(piece, rows.narrow(0, r, take));
        filled += take;
        r += take;
        if (filled == piece_rows) {
          total.add_(piece);
          filled = 0;
        }
      }
    };
    int64_t count = 0;
    std::vector<std::string> sharing;
    if (auto c = captured_.find(short_name); c != captured_.end()) {
      // Already captured (fp32 copies of compute-dtype values, so converting back is exact).
      ScopedPhase timed(phases_, "Gram accumulation (fp32)");
      for (int64_t r = 0; r < c->second.size(0); r += piece_rows)  // one piece converted at a time
        add_rows(c->second.narrow(0, r, std::min(piece_rows, c->second.size(0) - r)).to(inputs_.scalar_type()));
      count = c->second.size(0);
      for (const auto& [name, t] : captured_)
        if (t.is_same(c->second)) sharing.push_back(name);
    } else {
      // Stream the tokens: only one chunk's inputs are alive at a time.
      double gram_seconds = 0.0;
      const auto start = std::chrono::steady_clock::now();
      sharing = capture_each_chunk(short_name, [&](const at::Tensor& x) {
        const auto t0 = std::chrono::steady_clock::now();
        add_rows(x);
        count += x.size(0);
        gram_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      });
      if (phases_) {
        phases_->add("Gram accumulation (fp32)", gram_seconds);
        phases_->add("capture forwards",
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() - gram_seconds);
      }
    }
    if (filled > 0) total.add_(piece);  // the last, shorter piece
    if (collective_) {  // every rank ends with the sums over all blocks
      all_reduce_sum(total);
      at::Tensor n = at::full({1}, count, at::kLong);
      all_reduce_sum(n);
      count = n.item<int64_t>();
    }
    const at::Tensor gram = total.to(at::kFloat);
    for (const auto& n : sharing) {
      grams_[n] = gram;
      gram_tokens_[n] = count;
    }
    it = grams_.find(short_name);
  }
  *tokens = gram_tokens_.at(short_name);
  return view_of(it->second);
}

void CalibratedLayer::set_gram_granule(int64_t blocks) {
  granule_ = std::max<int64_t>(1, blocks);
  // Chunks tile the pieces the same way on every rank: a multiple of a piece, or (the chunk bounds
  // memory, so never larger) the largest divisor of one that fits.
  if (chunk_ >= granule_) {
    chunk_ -= chunk_ % granule_;
  } else {
    while (granule_ % chunk_ != 0) --chunk_;
  }
}

void CalibratedLayer::all_reduce_sum(at::Tensor& t) {
  if (!collective_) return;
  ScopedPhase timed(phases_, "sums across ranks");
  collective_->all_reduce_sum(t);
}

void CalibratedLayer::release_captured(const std::string& short_name) {
  const auto c = captured_.find(short_name);
  if (c == captured_.end()) return;
  const at::Tensor shared = c->second;
  for (auto i = captured_.begin(); i != captured_.end();)
    i = i->second.is_same(shared) ? captured_.erase(i) : std::next(i);
}

at::Tensor CalibratedLayer::run_module(const std::string& module, const at::Tensor& input, at::Tensor out) {
  // Rows are calibration tokens in block order; attention needs them back as whole sequences.
  const int64_t seqlen = inputs_.size(1);
  if (input.dim() != 2 || input.size(0) % seqlen != 0)
    throw host::ServiceError(QF_ERR_INVALID_ARGUMENT,
                             "run_module(" + module + ") input must be [tokens, in] with tokens a multiple of the " +
                                 std::to_string(seqlen) + "-token calibration blocks, got " + c10::str(input.sizes()));
  ScopedPhase timed(phases_, "module forwards (run_module)");
  const at::Tensor blocks = input.view({-1, seqlen, input.size(1)});
  int64_t row = 0;
  for (int64_t b = 0; b < blocks.size(0); b += chunk_) {
    stop_if_cancelled();  // an AWQ search runs ~21 of these per group: minutes a layer on real models
    // Chunk by chunk: only one chunk is ever converted to the compute dtype.
    const at::Tensor x = blocks.slice(0, b, std::min(b + chunk_, blocks.size(0))).to(inputs_.scalar_type());
    const at::Tensor y = layer_.run_module(module, x);
    const at::Tensor flat = y.reshape({-1, y.size(-1)});
    if (!out.defined()) out = at::empty({input.size(0), flat.size(1)}, at::kFloat);
    if (out.size(0) != input.size(0) || out.size(1) != flat.size(1))
      throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, "run_module(" + module + ") output must be [" +
                                                            std::to_string(input.size(0)) + ", " +
                                                            std::to_string(flat.size(1)) + "], got " +
                                                            c10::str(out.sizes()));
    out.narrow(0, row, flat.size(0)).copy_(flat);
    row += flat.size(0);
  }
  return out;
}

void CalibratedLayer::scale_previous_op(const std::string& prev_op, const std::vector<std::string>& linears,
                                        const at::Tensor& s) {
  for (const auto& l : linears) find(l);
  layer_.scale(prev_op, linears, s);
  scaled_.insert(prev_op);
  states_->clear();  // a norm or a whole group changed: nothing kept is current
  stale(-1);
}

at::Tensor CalibratedLayer::forward_all() {
  at::Tensor out;
  int64_t b = 0;
  forward_to(kOutput, [&](const at::Tensor& y) {
    if (!out.defined()) out = at::empty({inputs_.size(0), y.size(1), y.size(2)}, y.options());
    out.narrow(0, b, y.size(0)).copy_(y);
    b += y.size(0);
  });
  return out;
}

namespace {

CalibratedLayer& as_calibrated(qf_layer* layer) {
  auto* c = dynamic_cast<CalibratedLayer*>(layer);
  if (!c) throw host::ServiceError(QF_ERR_UNSUPPORTED, "this layer carries no calibration data");
  return *c;
}

using host::serve;

int32_t captured_input(qf_layer* layer, const char* name, DLTensor* out, qf_error* err) {
  return serve(err, [&] { *out = as_calibrated(layer).captured_input(name ? name : ""); });
}

int32_t input_gram(qf_layer* layer, const char* name, DLTensor* gram, int64_t* tokens, qf_error* err) {
  return serve(err, [&] {
    const DLTensor g = as_calibrated(layer).input_gram(name ? name : "", tokens);
    const at::Tensor src = borrow_dl(g, "gram");
    at::Tensor dst = borrow_dl(*gram, "gram output");
    if (dst.scalar_type() != at::kFloat || dst.sizes() != src.sizes())
      throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, "gram output must be fp32 " + c10::str(src.sizes()));
    dst.copy_(src);
  });
}

int32_t run_module(qf_layer* layer, const char* module, const DLTensor* input, DLTensor* output, qf_error* err) {
  return serve(err, [&] {
    const at::Tensor x = borrow_dl(*input, "run_module input");
    at::Tensor dst = borrow_dl(*output, "run_module output");
    if (dst.dim() != 2 || dst.scalar_type() != at::kFloat)
      throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, std::string("run_module(") + (module ? module : "") +
                                                            ") output must be a 2-D fp32 tensor");
    as_calibrated(layer).run_module(module ? module : "", x, dst);  // written in place, chunk by chunk
  });
}

int32_t scale_previous_op(qf_layer* layer, const char* prev_op, const char* const* linears, uint32_t count,
                          const DLTensor* scales, qf_error* err) {
  return serve(err, [&] {
    std::vector<std::string> names(linears, linears + count);
    as_calibrated(layer).scale_previous_op(prev_op ? prev_op : "", names,
                                           borrow_dl(*scales, "scales").to(at::kFloat).clone());
  });
}

void release_captured(qf_layer* layer, const char* name) {
  try {  // a C function without an error slot: nothing may escape, and a failed release only costs memory
    if (auto* c = dynamic_cast<CalibratedLayer*>(layer); c && name) c->release_captured(name);
  } catch (...) {
  }
}

uint32_t scaling_group_count(qf_layer* layer) {
  auto* c = dynamic_cast<CalibratedLayer*>(layer);
  return c ? static_cast<uint32_t>(c->scaling_groups().size()) : 0;
}

int32_t scaling_group(qf_layer* layer, uint32_t index, qf_scaling_group* out, qf_error* err) {
  return serve(err, [&] {
    CalibratedLayer& c = as_calibrated(layer);
    if (index >= c.scaling_groups().size()) throw host::ServiceError(QF_ERR_NOT_FOUND, "scaling group out of range");
    // Pointers into the layer's own group table: valid while the layer lives.
    host::require_out_struct(out, QF_SIZE_SCALING_GROUP_1_0, "qf_scaling_group");
    const model::ScalingGroup& g = c.scaling_groups()[index];
    const std::vector<const char*>& names = c.scaling_group_names(index);
    qf_scaling_group filled{};
    filled.struct_size = sizeof(filled);
    filled.prev_op = g.prev_op.c_str();
    filled.linears = names.data();
    filled.linear_count = static_cast<uint32_t>(names.size());
    filled.inspect = g.inspect.empty() ? g.linears.front().c_str() : g.inspect.c_str();
    qf::abi::copy_out(out, filled);  // never past the caller's struct_size
  });
}

int32_t calibration_shape(qf_layer* layer, qf_calibration_shape* out, qf_error* err) {
  return serve(err, [&] {
    const CalibratedLayer& c = as_calibrated(layer);
    host::require_out_struct(out, QF_SIZE_CALIBRATION_SHAPE_1_2, "qf_calibration_shape");  // 1.2 callers too
    qf_calibration_shape filled{};
    filled.struct_size = sizeof(filled);
    filled.blocks = c.blocks();
    filled.block_length = c.block_length();
    filled.tokens = c.blocks() * c.block_length();
    filled.first_block = c.first_block();
    filled.all_blocks = c.all_blocks();
    filled.rank = c.rank();
    filled.ranks = c.ranks();
    qf::abi::copy_out(out, filled);
  });
}

int32_t all_reduce_sum(qf_layer* layer, DLTensor* inout, qf_error* err) {
  return serve(err, [&] {
    if (!inout) throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, "all_reduce_sum needs a tensor");
    at::Tensor t = borrow_dl(*inout, "all_reduce_sum tensor");
    const auto type = t.scalar_type();
    if (type != at::kFloat && type != at::kDouble && type != at::kLong)
      throw host::ServiceError(QF_ERR_INVALID_ARGUMENT, "all_reduce_sum sums float32, float64 or int64 tensors, not " +
                                                            std::string(c10::toString(type)));
    try {
      as_calibrated(layer).all_reduce_sum(t);
    } catch (const Error& e) {
      throw host::ServiceError(QF_ERR_IO, e.what());
    }
  });
}

}  // namespace

const qf_calibration_api* calibration_api() {
  static const qf_calibration_api api = {sizeof(qf_calibration_api), &captured_input, &input_gram, &run_module,
                                         &scale_previous_op,         &scaling_group_count, &scaling_group,
                                         &release_captured,          &calibration_shape,
                                         &all_reduce_sum};
  return &api;
}

}  // namespace qf::pipeline
