#pragma once
// Per-layer checkpoints of a quantization run, so that a killed run continues from its last finished
// layer and ends with output bit-identical to an uninterrupted run. After layer i the store holds:
//
//   layer-0000i.safetensors   every tensor the layer emitted, in emission order (metadata "order")
//   hidden-0000i.safetensors  calibrated runs: the hidden states the next layer starts from
//   state.json                the run's fingerprint and the number of finished layers (written last)
//
// Disk use: about one more copy of the quantized layers, plus one copy of the calibration hidden
// states (blocks x seqlen x hidden x 4 bytes in fp32). A resumed run replays the stored tensors into
// fresh format plugins and starts the layer loop at the first unfinished layer.
#include <ATen/core/Tensor.h>
#include <dlpack/dlpack.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace qf::pipeline {

// What must be equal for a resume to give the uninterrupted result: named parts ("model files",
// "recipe", "calibration data", "plugins", "threads", ...), each a printable value.
using Fingerprint = std::map<std::string, std::string>;

class ResumeStore {
 public:
  using Emit = std::function<void(const std::string& name, const DLTensor& tensor)>;

  // `dir` exists. Reads its state when there is one: throws qf::Error naming every part of the
  // fingerprint that changed (and how to start over) when it does not match `fingerprint`.
  ResumeStore(std::filesystem::path dir, Fingerprint fingerprint);

  int64_t layers_done() const { return layers_done_; }

  // Copies one emitted tensor of the layer being quantized.
  void record(const std::string& name, const DLTensor& tensor);
  // Makes layer `index` durable: its tensors, `hidden` (undefined for runs without calibration)
  // and then the state. Throws qf::Error when the disk refuses.
  void finish_layer(int64_t index, const at::Tensor& hidden);

  // Re-emits what layer `index` emitted, in the same order and with the same bytes.
  void replay_layer(int64_t index, const Emit& emit) const;
  // The hidden states stored after the last finished layer.
  at::Tensor load_hidden() const;

  uint64_t bytes_on_disk() const;

 private:
  std::filesystem::path dir_;
  Fingerprint fingerprint_;
  int64_t layers_done_ = 0;
  std::vector<std::pair<std::string, at::Tensor>> pending_;
};

// The fingerprint's "model files" part: name, size and modification time of each file.
std::string describe_files(const std::vector<std::filesystem::path>& files);
// A 64-bit FNV-1a hash of a tensor's bytes and shape, in hex.
std::string hash_tensor(const at::Tensor& t);

}  // namespace qf::pipeline
