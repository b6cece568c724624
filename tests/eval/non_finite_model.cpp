#include "non_finite_model.hpp"

#include <ATen/ATen.h>

#include <vector>

#include "model/weight_source.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"

namespace fs = std::filesystem;

namespace qf::test {

void write_model_with_bad_weight(const fs::path& src, const fs::path& dst, const std::string& tensor, int64_t row,
                                 float value, const fs::path& tokenizer_dir) {
  fs::create_directories(dst);
  for (const char* f : {"config.json", "generation_config.json"})
    if (fs::exists(src / f)) fs::copy_file(src / f, dst / f);
  if (!tokenizer_dir.empty())
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) fs::copy_file(tokenizer_dir / f, dst / f);
  const st::Checkpoint ckpt = st::Checkpoint::open(src);
  std::vector<at::Tensor> keep;
  std::vector<st::TensorRef> refs;
  bool found = false;
  for (const std::string& name : ckpt.names()) {
    const st::TensorView v = ckpt.get(name);
    at::Tensor t = at::from_blob(const_cast<std::byte*>(v.data), v.info->shape,
                                 at::TensorOptions().dtype(model::to_scalar_type(v.info->dtype, name)))
                       .clone();
    if (name == tensor) {
      t.select(0, row).view(-1)[0].fill_(value);
      found = true;
    }
    keep.push_back(t);
    refs.push_back(
        {name, v.info->dtype, v.info->shape, t.data_ptr(), static_cast<size_t>(t.numel()) * t.element_size()});
  }
  if (!found) throw std::runtime_error("no tensor " + tensor + " in " + src.string());
  st::write_file(dst / "model.safetensors", refs);
}

}  // namespace qf::test
