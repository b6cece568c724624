#pragma once
// Wall time of a quantization run split by phase (calibration data, layer loads, capture forwards,
// Gram accumulation, module forwards, propagation, method work, emit, write), summed over layers
// and logged at the end so benchmarks and users see where the time goes.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace qf::pipeline {

class PhaseTimes {
 public:
  void add(const std::string& phase, double seconds) {
    for (auto& [name, total] : totals_)
      if (name == phase) {
        total += seconds;
        return;
      }
    totals_.emplace_back(phase, seconds);
  }
  double get(const std::string& phase) const {
    for (const auto& [name, total] : totals_)
      if (name == phase) return total;
    return 0.0;
  }
  // Phases in first-seen order.
  const std::vector<std::pair<std::string, double>>& totals() const { return totals_; }

 private:
  std::vector<std::pair<std::string, double>> totals_;
};

// Adds the scope's wall time to one phase; a null PhaseTimes records nothing.
class ScopedPhase {
 public:
  ScopedPhase(PhaseTimes* times, std::string phase)
      : times_(times), phase_(std::move(phase)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedPhase() {
    if (times_) times_->add(phase_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedPhase(const ScopedPhase&) = delete;
  ScopedPhase& operator=(const ScopedPhase&) = delete;

 private:
  PhaseTimes* times_;
  std::string phase_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace qf::pipeline
