#include "pipeline/rank_share.hpp"

#include <ATen/Functions.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

#include "common/error.hpp"
#include "pipeline/resume_state.hpp"

namespace qf::pipeline {

int64_t gram_granule(int64_t blocks) { return std::max<int64_t>(1, std::min<int64_t>(16, blocks / 8)); }

std::string model_identity(const std::filesystem::path& model_dir, const st::Checkpoint& ckpt) {
  std::ifstream in(model_dir / "config.json", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& f : ckpt.files()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(f->path(), ec);
    text += "|" + f->path().filename().string() + ":" + std::to_string(ec ? 0 : size);
  }
  for (const auto& name : ckpt.names()) {
    const auto view = ckpt.get(name);
    text += "|" + name + ":" + std::to_string(static_cast<int>(view.info->dtype));
    for (const auto d : view.info->shape) text += "," + std::to_string(d);
  }
  const at::Tensor bytes = at::from_blob(text.data(), {static_cast<int64_t>(text.size())}, at::kByte);
  return "model hash " + hash_tensor(bytes);
}

RankShare take_rank_share(dist::Collective& collective, const RankInputs& inputs, const at::Tensor& ids,
                          int64_t granule) {
  // Refused at the start, on every rank, before any work: the ranks must compute the same run.
  collective.require_same("model (config and weight files)", inputs.model);
  collective.require_same("recipe and options", inputs.recipe);
  collective.require_same("plugins", inputs.plugins);
  collective.require_same("calibration data", inputs.calibration);
  const int world = collective.world_size();
  const int64_t blocks = ids.size(0);
  for (int r = 0; r < world; ++r)  // every rank says it, not only the one left out
    if (const auto s = dist::block_share(blocks, granule, r, world); s.end <= s.begin)
      throw Error("distributed run: " + std::to_string(world) + " ranks for " + std::to_string(blocks) +
                  " calibration blocks leaves rank " + std::to_string(r) + " none; use at most " +
                  std::to_string(blocks) + " ranks or more --num_samples");
  const dist::BlockShare share = dist::block_share(blocks, granule, collective.rank(), world);
  spdlog::info("distributed run: this rank calibrates on blocks {}..{} of {}", share.begin, share.end - 1, blocks);
  return RankShare{ids.slice(0, share.begin, share.end).contiguous(), share.begin};
}

}  // namespace qf::pipeline
