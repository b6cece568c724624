#pragma once
// What a distributed run settles before its first layer: every rank checks that the others run the
// same job on the same inputs, and takes its contiguous share of the calibration blocks.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "distributed/collective.hpp"
#include "safetensors/reader.hpp"

namespace qf::pipeline {

// Blocks per Gram piece for `blocks` calibration blocks: up to 16, at least 8 pieces (few fp64
// additions, enough pieces to share out). From the block count alone, so every rank agrees.
int64_t gram_granule(int64_t blocks);

// What the ranks must share, independent of where the files lie and when they were copied:
// config.json's bytes, the weight files' names and sizes, the tensor table (names, dtypes, shapes).
std::string model_identity(const std::filesystem::path& model_dir, const st::Checkpoint& ckpt);

struct RankInputs {
  std::string model;        // model_identity
  std::string recipe;       // the resolved recipe and options, without the layout (ranks > 0 stage privately)
  std::string plugins;      // names and versions
  std::string calibration;  // block count and hash of the calibration tokens
};

struct RankShare {
  at::Tensor ids;           // this rank's blocks
  int64_t first_block = 0;  // where they start among all of them
};

// qf::Error on every rank when any input differs between ranks, or when some rank would get no
// blocks; otherwise this rank's share of `ids` ([blocks, seqlen]), cut on `granule` boundaries.
RankShare take_rank_share(dist::Collective& collective, const RankInputs& inputs, const at::Tensor& ids,
                          int64_t granule);

}  // namespace qf::pipeline
