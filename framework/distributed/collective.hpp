#pragma once
// Data-parallel calibration across processes ("ranks", on one machine or many): every rank runs the
// same layer loop on its own share of the calibration blocks, and the statistics a method needs
// over all blocks are summed across ranks here. Built on LibTorch's c10d: a TCPStore on the master's
// address for the rendezvous and the input checks, the Gloo process group for the sums. A rank that
// dies or stops answering makes every other rank's next collective fail within the timeout.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "distributed/options.hpp"

namespace qf::dist {

class Collective {
 public:
  // world_size 1: a local stand-in whose sums are the identity. Otherwise connects (rank 0 serves
  // the store) and waits for every rank up to the timeout; qf::Error saying who did not come.
  static std::unique_ptr<Collective> connect(const DistributedOptions& options);
  ~Collective();
  Collective(const Collective&) = delete;
  Collective& operator=(const Collective&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  bool distributed() const { return options_.distributed(); }

  // In place: every rank ends with the sum over ranks (bit-identical on every rank). A contiguous
  // CPU tensor of float, double or int64. qf::Error when a rank is gone or the timeout passes.
  void all_reduce_sum(at::Tensor& tensor);
  // Every rank must pass the same value for `what` (model files, recipe, calibration data, ...):
  // qf::Error on every rank naming the first rank whose value differs, and both values.
  void require_same(const std::string& what, const std::string& value);
  // Returns once every rank has called it (or throws as all_reduce_sum does).
  void barrier();

  // What this rank has summed so far: tensor bytes and wall seconds spent in all_reduce_sum
  // (waiting for slower ranks included).
  int64_t bytes_reduced() const { return bytes_reduced_; }
  double seconds_reducing() const { return seconds_reducing_; }

 private:
  explicit Collective(DistributedOptions options);
  struct Group;
  DistributedOptions options_;
  std::unique_ptr<Group> group_;
  int64_t checks_ = 0;
  int64_t bytes_reduced_ = 0;
  double seconds_reducing_ = 0;
};

}  // namespace qf::dist
