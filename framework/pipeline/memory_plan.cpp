#include "pipeline/memory_plan.hpp"

#include "quantforge/errors.hpp"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

#include "common/error.hpp"
#include "pipeline/memory_usage.hpp"

namespace qf::pipeline {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// "1.36 GiB", or "371 MiB" below a GiB.
std::string gib(double bytes) {
  char buf[32];
  if (bytes < kGiB)
    std::snprintf(buf, sizeof buf, "%.0f MiB", bytes / (1024.0 * 1024.0));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / kGiB);
  return buf;
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The process's own cgroup folder for `controller` ("" = v2), from /proc/self/cgroup.
std::vector<std::string> cgroup_dirs(const std::string& root, const std::string& controller) {
  std::vector<std::string> dirs;
  if (const auto self = read_text("/proc/self/cgroup")) {
    std::istringstream lines(*self);
    for (std::string line; std::getline(lines, line);) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string list = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if ((controller.empty() && list.empty()) ||
          (!controller.empty() && ("," + list + ",").find("," + controller + ",") != std::string::npos))
        if (path != "/") dirs.push_back(root + path);
    }
  }
  dirs.push_back(root);  // inside a container the namespace root is the container's cgroup
  return dirs;
}

// Limit minus usage of the first cgroup folder that has both files.
std::optional<double> cgroup_headroom(const std::vector<std::string>& dirs, const char* limit_file,
                                      const char* usage_file, std::string& where) {
  for (const auto& d : dirs) {
    const auto limit = read_text(d + "/" + limit_file);
    const auto usage = read_text(d + "/" + usage_file);
    if (!limit || !usage) continue;
    const auto l = parse_cgroup_bytes(*limit), u = parse_cgroup_bytes(*usage);
    if (!l) return std::nullopt;  // unlimited
    where = d + "/" + limit_file;
    return std::max(0.0, *l - u.value_or(0.0));
  }
  return std::nullopt;
}

// Estimate for another sample count / sequence length, the forward chunk scaled to keep its tokens.
MemoryEstimate estimate_with(CalibrationShape s, int64_t samples, int64_t seqlen) {
  s.chunk = std::max<int64_t>(1, s.chunk * s.seqlen / std::max<int64_t>(1, seqlen));
  s.samples = samples;
  s.seqlen = seqlen;
  return estimate_calibration_memory(s);
}

// Largest value in [lo, hi] for which fits(value) holds (fits is monotone decreasing); 0 if none.
int64_t largest_fitting(int64_t lo, int64_t hi, const std::function<bool(int64_t)>& fits) {
  if (hi < lo || !fits(lo)) return 0;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid))
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

}  // namespace

CalibrationUse calibration_use_of(const std::string& method_plugin) {
  if (method_plugin == "awq") return CalibrationUse::CapturedInputs;
  if (method_plugin == "gptq") return CalibrationUse::InputGrams;
  return CalibrationUse::Unknown;
}

CalibrationShape CalibrationShape::of(const model::ModelConfig& config, int64_t samples, int64_t seqlen,
                                      int64_t compute_bytes, int64_t chunk, CalibrationUse use,
                                      bool propagate_quantized) {
  CalibrationShape s;
  s.samples = samples;
  s.seqlen = seqlen;
  s.hidden = config.hidden_size;
  s.intermediate = config.intermediate_size;
  s.heads = config.num_heads;
  s.kv_heads = config.num_kv_heads > 0 ? config.num_kv_heads : config.num_heads;
  s.head_dim = config.head_dim > 0 ? config.head_dim : config.hidden_size / std::max<int64_t>(1, config.num_heads);
  s.compute_bytes = compute_bytes;
  s.chunk = chunk;
  s.use = use;
  s.two_hidden_states = !propagate_quantized;
  return s;
}

std::string CalibrationShape::describe() const {
  return std::to_string(samples) + " samples x " + std::to_string(seqlen) + " tokens, hidden " +
         std::to_string(hidden) + ", intermediate " + std::to_string(intermediate) + ", compute " +
         (compute_bytes == 2 ? "bf16" : "fp32");
}

std::string MemoryEstimate::describe() const {
  std::string out = phase + ": ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i].what + " " + gib(parts[i].bytes);
  return out;
}

MemoryEstimate estimate_calibration_memory(const CalibrationShape& s) {
  const double S = static_cast<double>(s.samples), T = static_cast<double>(s.seqlen);
  const double H = static_cast<double>(s.hidden), I = static_cast<double>(s.intermediate);
  const double heads = static_cast<double>(s.heads), c = static_cast<double>(s.compute_bytes);
  const double q_width = heads * static_cast<double>(s.head_dim),
               kv_width = static_cast<double>(s.kv_heads * s.head_dim);
  const double tokens = S * T;
  const double hidden_states = tokens * H * c;
  // One block's forward temporaries (residual, normed input, q/k/v, MLP intermediates, attention scores).
  const double per_block = c * (T * (6.0 * H + 3.0 * I) + heads * T * T);
  const double activations = std::min(S, static_cast<double>(std::max<int64_t>(1, s.chunk))) * per_block;
  const double layer_params = H * q_width + 2.0 * H * kv_width + q_width * H + 3.0 * H * I;
  const double resident = layer_params * c;

  MemoryEstimate propagation;
  propagation.phase = "during the propagation forwards";
  propagation.parts = {{"hidden states in, chunk outputs and their concatenation 3 x", hidden_states},
                       {"forward activations", activations},
                       {"resident layer", resident}};
  propagation.total = 3.0 * hidden_states + activations + resident;

  const double fp32 = 4.0;
  // The down_proj group's Gram matrix: the host's fp64 sum (2 units) and fp32 piece, the method's copy.
  const double awq = std::max(tokens * I * fp32 + 4.0 * I * I * fp32, 3.0 * tokens * H * fp32);
  const std::string awq_what = tokens * I * fp32 + 4.0 * I * I * fp32 >= 3.0 * tokens * H * fp32
                                   ? "captured down_proj input and its Gram matrix buffers"
                                   : "a group's captured input, its copy and 2 outputs";
  const double widest = std::max(H, q_width);
  const double gptq = std::max(7.0 * I * I, 9.0 * widest * widest) * fp32 + 4.0 * std::max(H * I, H * q_width) * fp32;
  double method_data = 0;
  std::string method_what;
  switch (s.use) {
    case CalibrationUse::CapturedInputs:
      method_data = awq;
      method_what = awq_what;
      break;
    case CalibrationUse::InputGrams:
      method_data = gptq;
      method_what = "Gram matrices and the solver's copies";
      break;
    case CalibrationUse::Unknown:
      method_data = std::max(awq, gptq);
      method_what = awq >= gptq ? awq_what : "Gram matrices and the solver's copies";
      break;
  }
  const bool two = s.two_hidden_states || s.use == CalibrationUse::Unknown;
  MemoryEstimate method;
  method.phase = "while the method runs";
  method.parts = {{two ? "hidden states 2 x" : "hidden states", hidden_states},
                  {"layer weights with fp32 copies", layer_params * (c + 2.0 * fp32)},
                  {"forward activations", activations},
                  {method_what, method_data}};
  method.total = (two ? 2.0 : 1.0) * hidden_states + layer_params * (c + 2.0 * fp32) + activations + method_data;
  return method.total >= propagation.total ? method : propagation;
}

std::optional<double> parse_memory_size(const std::string& text) {
  const auto b = text.find_first_not_of(" \t\n"), e = text.find_last_not_of(" \t\n");
  if (b == std::string::npos) return std::nullopt;
  const std::string t = text.substr(b, e - b + 1);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end == t.c_str() || v < 0) return std::nullopt;
  std::string unit(end);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() > 1 && (unit.back() == 'i' || unit.back() == 'I')) unit.pop_back();
  if (unit.empty()) return v;
  if (unit.size() != 1) return std::nullopt;
  switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
    case 'K':
      return v * 1024.0;
    case 'M':
      return v * 1024.0 * 1024.0;
    case 'G':
      return v * kGiB;
    case 'T':
      return v * kGiB * 1024.0;
    default:
      return std::nullopt;
  }
}

std::optional<double> parse_mem_available(const std::string& meminfo) {
  std::istringstream lines(meminfo);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kb = 0;
    std::string unit;
    if (fields >> kb >> unit && unit == "kB") return kb * 1024.0;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> parse_cgroup_bytes(const std::string& text) {
  const auto b = text.find_first_not_of(" \t\n");
  if (b == std::string::npos || text.compare(b, 3, "max") == 0) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str() + b, &end);
  if (end == text.c_str() + b || v < 0) return std::nullopt;
  if (v >= 1152921504606846976.0) return std::nullopt;  // >= 2^60: cgroup v1's "no limit"
  return v;
}

AvailableMemory available_memory() {
  AvailableMemory a;
  if (const char* env = std::getenv("QUANTFORGE_AVAILABLE_MEMORY"); env && *env) {
    a.bytes = parse_memory_size(env);
    if (!a.bytes)
      throw Error(std::string("QUANTFORGE_AVAILABLE_MEMORY must be a byte count or a size such as 8G, got \"") + env +
                  "\"");
    a.source = "QUANTFORGE_AVAILABLE_MEMORY";
    return a;
  }
  if (const auto meminfo = read_text("/proc/meminfo")) {
    a.bytes = parse_mem_available(*meminfo);
    if (a.bytes) a.source = "MemAvailable in /proc/meminfo";
  }
  std::string where;
  auto limited = cgroup_headroom(cgroup_dirs("/sys/fs/cgroup", ""), "memory.max", "memory.current", where);
  if (!limited)
    limited = cgroup_headroom(cgroup_dirs("/sys/fs/cgroup/memory", "memory"), "memory.limit_in_bytes",
                              "memory.usage_in_bytes", where);
  if (limited && (!a.bytes || *limited < *a.bytes)) {
    a.bytes = limited;
    a.source = "the container's memory limit minus its usage (" + where + ")";
  }
  return a;
}

std::string CalibrationMemoryPlan::advice() const {
  const double limit = available.bytes.value_or(estimate.total);
  const auto fits_samples = [&](int64_t n) { return estimate_with(shape, n, shape.seqlen).total <= limit; };
  const auto fits_seqlen = [&](int64_t t) { return estimate_with(shape, shape.samples, t).total <= limit; };
  const int64_t samples = largest_fitting(1, shape.samples - 1, fits_samples);
  const int64_t seqlen = largest_fitting(2, shape.seqlen - 1, fits_seqlen);
  std::string out;
  if (samples > 0)
    out = "lower --num_samples (at most " + std::to_string(samples) + " fit at --seqlen " +
          std::to_string(shape.seqlen) + ")";
  if (seqlen > 0)
    out += std::string(out.empty() ? "lower" : " or") + " --seqlen (at most " + std::to_string(seqlen) + " fit with " +
           std::to_string(shape.samples) + " samples)";
  if (out.empty()) out = "even 1 sample of 2 tokens does not fit: free memory or use a machine with more";
  if (shape.compute_bytes == 4) {
    CalibrationShape bf16 = shape;
    bf16.compute_bytes = 2;
    out += "; compute_dtype = \"bf16\" in the recipe would need about " + gib(estimate_calibration_memory(bf16).total);
  }
  return out;
}

std::string CalibrationMemoryPlan::refusal() const {
  return "the calibration needs about " + gib(estimate.total) + " at its peak (" + shape.describe() + "; " +
         estimate.describe() + ") but only " + gib(available.bytes.value_or(0)) + " is available (" + available.source +
         "): " + advice();
}

std::string CalibrationMemoryPlan::out_of_memory(const std::string& detail) const {
  std::string what_to_do;
  if (fits()) {
    // The reading said it fits: something else took the memory, or a limit the reading missed applies.
    const int64_t half_samples = std::max<int64_t>(1, shape.samples / 2),
                  half_seqlen = std::max<int64_t>(2, shape.seqlen / 2);
    what_to_do = "lower --num_samples (" + std::to_string(half_samples) + " need about " +
                 gib(estimate_with(shape, half_samples, shape.seqlen).total) + ") or --seqlen (" +
                 std::to_string(half_seqlen) + " needs about " +
                 gib(estimate_with(shape, shape.samples, half_seqlen).total) + "), or free memory";
  } else {
    what_to_do = advice();
  }
  return "out of memory during calibration" + detail + ": the calibration needs about " + gib(estimate.total) +
         " at its peak (" + shape.describe() + "; " + estimate.describe() + ")" +
         (available.bytes
              ? " and " + gib(*available.bytes) + " was available when it started (" + available.source + ")"
              : std::string()) +
         ": " + what_to_do;
}

int64_t CalibrationMemoryPlan::forward_state_budget() const {
  if (const char* env = std::getenv("QUANTFORGE_FORWARD_STATE_BYTES"); env && *env) {
    const auto bytes = parse_memory_size(env);
    if (!bytes)
      throw Error(std::string("QUANTFORGE_FORWARD_STATE_BYTES must be a byte count or a size such as 2G, got \"") + env +
                  "\"");
    return static_cast<int64_t>(*bytes);
  }
  if (!available.bytes) return 0;
  return static_cast<int64_t>(std::max(0.0, (*available.bytes - estimate.total) / 2));
}

CalibrationMemoryPlan plan_calibration_memory(const CalibrationShape& shape, const AvailableMemory& available) {
  return CalibrationMemoryPlan{shape, estimate_calibration_memory(shape), available};
}

CalibrationMemoryPlan check_calibration_memory(const model::ModelConfig& config, int64_t samples, int64_t seqlen,
                                               int64_t compute_bytes, int64_t chunk, const std::string& method_plugin,
                                               bool propagate_quantized) {
  const CalibrationShape shape = CalibrationShape::of(config, samples, seqlen, compute_bytes, chunk,
                                                      calibration_use_of(method_plugin), propagate_quantized);
  const CalibrationMemoryPlan plan = plan_calibration_memory(shape, available_memory());
  spdlog::info("calibration memory: about {} at its peak ({}) on top of the {:.2f} GiB now resident; {} available ({})",
               gib(plan.estimate.total), plan.estimate.describe(), current_rss_gib(),
               plan.available.bytes ? gib(*plan.available.bytes) : std::string("unknown"),
               plan.available.bytes ? plan.available.source : "no reading");
  if (!plan.fits()) throw Error(plan.refusal());
  if (plan.available.bytes && plan.estimate.total > 0.8 * *plan.available.bytes)
    spdlog::warn("the calibration needs about {} of the {} available: little headroom ({})", gib(plan.estimate.total),
                 gib(*plan.available.bytes), plan.advice());
  return plan;
}

namespace {
// LibTorch's allocator says how much it wanted: "you tried to allocate N bytes".
std::optional<double> requested_allocation(const std::string& message) {
  const auto at = message.find("you tried to allocate ");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(message.c_str() + at + 22, nullptr);
}
}  // namespace

void explain_allocation_failures(const CalibrationMemoryPlan& plan, const std::function<void()>& body) {
  const auto detail = [](const std::string& message) {
    const std::optional<double> requested = requested_allocation(message);
    return requested ? " (an allocation of " + gib(*requested) + " failed)" : std::string();
  };
  try {
    body();
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError(plan.out_of_memory(""));
  } catch (const c10::Error& e) {
    if (!sdk::is_allocation_failure_message(e.what_without_backtrace())) throw;
    throw OutOfMemoryError(plan.out_of_memory(detail(e.what_without_backtrace())));
  } catch (const OutOfMemoryError& e) {
    // A plugin reports an allocation failure (its own or a host service's) through the C ABI.
    throw OutOfMemoryError(plan.out_of_memory(detail(e.what())));
  }
}

}  // namespace qf::pipeline
