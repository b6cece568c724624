#include "broken_model.hpp"

#include <ATen/ATen.h>

#include <fstream>
#include <stdexcept>

#include "model/weight_source.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"

namespace fs = std::filesystem;

namespace qf::test {
namespace {

st::DType st_dtype(at::ScalarType t) {
  switch (t) {
    case at::kBFloat16: return st::DType::BF16;
    case at::kHalf: return st::DType::F16;
    case at::kFloat: return st::DType::F32;
    default: throw std::invalid_argument("replace_tensor: only bf16, f16 and f32 tensors");
  }
}

}  // namespace

void copy_fixture(const std::string& fixture, const fs::path& dir) {
  fs::create_directories(dir);
  fs::copy(fs::path(QF_TEST_DATA_DIR) / "models" / fixture, dir, fs::copy_options::recursive);
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j;
  std::ifstream(dir / "config.json") >> j;
  edit(j);
  std::ofstream(dir / "config.json") << j.dump(2) << "\n";
}

at::Tensor read_tensor(const fs::path& dir, const std::string& name) {
  const model::CheckpointSource source(st::Checkpoint::open(dir));
  return source.borrow(name).clone();
}

void set_tensor(const fs::path& dir, const std::string& name, const at::Tensor& value) {
  const st::Checkpoint ckpt = st::Checkpoint::open(dir);
  std::shared_ptr<st::SafetensorsFile> file = ckpt.files().front();
  for (const auto& f : ckpt.files())
    if (f->find(name)) file = f;
  const bool added = !file->find(name);
  if (added && !value.defined()) throw std::invalid_argument("set_tensor: no tensor " + name + " to remove");
  const at::Tensor v = value.defined() ? value.contiguous() : value;
  std::vector<st::TensorRef> refs;
  for (const auto& info : file->header().tensors)
    if (info.name != name)  // the old file stays mapped (held by `ckpt`) while the new one replaces it
      refs.push_back({info.name, info.dtype, info.shape, file->view(info).data, info.nbytes()});
  if (v.defined())
    refs.push_back({name, st_dtype(v.scalar_type()), v.sizes().vec(), v.data_ptr(), static_cast<size_t>(v.nbytes())});
  st::write_file(file->path(), refs, file->header().metadata);

  const fs::path index = dir / "model.safetensors.index.json";
  if ((added || !v.defined()) && fs::exists(index)) {
    nlohmann::json j;
    std::ifstream(index) >> j;
    if (v.defined()) j["weight_map"][name] = file->path().filename().string();
    else j["weight_map"].erase(name);
    std::ofstream(index) << j.dump(2) << "\n";
  }
}

}  // namespace qf::test
