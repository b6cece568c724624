#include "pipeline/resume_state.hpp"

#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "pipeline/dl_views.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"

namespace fs = std::filesystem;

namespace qf::pipeline {
namespace {

std::string numbered(const char* stem, int64_t index) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%05lld.safetensors", stem, static_cast<long long>(index));
  return buf;
}

st::DType st_dtype(at::ScalarType t, const std::string& name) {
  switch (t) {
    case at::kDouble: return st::DType::F64;
    case at::kFloat: return st::DType::F32;
    case at::kHalf: return st::DType::F16;
    case at::kBFloat16: return st::DType::BF16;
    case at::kLong: return st::DType::I64;
    case at::kInt: return st::DType::I32;
    case at::kShort: return st::DType::I16;
    case at::kChar: return st::DType::I8;
    case at::kByte: return st::DType::U8;
    case at::kBool: return st::DType::BOOL;
    default: throw Error("cannot keep tensor '" + name + "' for resuming: unsupported dtype");
  }
}

st::TensorRef ref_of(const std::string& name, const at::Tensor& t) {
  st::TensorRef r;
  r.name = name;
  r.dtype = st_dtype(t.scalar_type(), name);
  r.shape = t.sizes().vec();
  r.data = t.data_ptr();
  r.nbytes = t.numel() * t.element_size();
  return r;
}

void write_json_atomically(const fs::path& path, const nlohmann::json& j) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) throw Error("cannot write " + tmp.string() + " (resume state)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("cannot write " + path.string() + " (resume state): " + ec.message());
}

}  // namespace

ResumeStore::ResumeStore(fs::path dir, Fingerprint fingerprint)
    : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)) {
  std::ifstream in(dir_ / "state.json");
  if (!in) return;
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw Error("the resume state in " + dir_.string() + " is damaged; rerun with --no-resume to start over");
  }
  std::vector<std::string> changed;
  const auto& stored = state.value("fingerprint", nlohmann::json::object());
  for (const auto& [part, value] : fingerprint_) {
    if (!stored.contains(part) || stored[part] != value) changed.push_back(part);
  }
  for (const auto& [part, value] : stored.items())
    if (!fingerprint_.count(part)) changed.push_back(part);
  if (!changed.empty()) {
    std::string what;
    for (const auto& part : changed) {
      what += (what.empty() ? "" : "; ") + part;
      if (stored.contains(part) && fingerprint_.count(part))
        what += " (was " + stored[part].get<std::string>() + ", now " + fingerprint_.at(part) + ")";
    }
    throw Error("cannot resume the interrupted run staged in " + dir_.parent_path().string() +
                ": changed since it started: " + what +
                ". Rerun with the same inputs to resume, or with --no-resume to start over");
  }
  layers_done_ = state.value("layers_done", int64_t{0});
}

void ResumeStore::record(const std::string& name, const DLTensor& tensor) {
  pending_.emplace_back(name, borrow_dl(tensor, name).contiguous().clone());
}

void ResumeStore::finish_layer(int64_t index, const at::Tensor& hidden) {
  std::vector<st::TensorRef> refs;
  nlohmann::json order = nlohmann::json::array();
  for (const auto& [name, t] : pending_) {
    refs.push_back(ref_of(name, t));
    order.push_back(name);
  }
  st::write_file(dir_ / numbered("layer", index), refs, {{"order", order.dump()}});
  pending_.clear();
  std::string hidden_file;
  if (hidden.defined()) {
    const at::Tensor h = hidden.contiguous();
    hidden_file = numbered("hidden", index);
    st::write_file(dir_ / hidden_file, {ref_of("hidden", h)});
  }
  nlohmann::json fp = nlohmann::json::object();
  for (const auto& [part, value] : fingerprint_) fp[part] = value;
  write_json_atomically(dir_ / "state.json",
                        {{"fingerprint", fp}, {"layers_done", index + 1}, {"hidden", hidden_file}});
  if (index > 0) {  // only the newest hidden states are needed
    std::error_code ec;
    fs::remove(dir_ / numbered("hidden", index - 1), ec);
  }
  layers_done_ = index + 1;
}

void ResumeStore::replay_layer(int64_t index, const Emit& emit) const {
  const auto file = st::SafetensorsFile::open(dir_ / numbered("layer", index));
  const auto& meta = file->header().metadata;
  const auto it = meta.find("order");
  if (it == meta.end()) throw Error("the resume state " + file->path().string() + " has no tensor order; rerun with --no-resume");
  for (const auto& name : nlohmann::json::parse(it->second)) {
    const st::TensorInfo* info = file->find(name.get<std::string>());
    if (!info) throw Error("the resume state " + file->path().string() + " lacks " + name.get<std::string>());
    emit(info->name, view_of(file->view(*info)));
  }
}

at::Tensor ResumeStore::load_hidden() const {
  const auto file = st::SafetensorsFile::open(dir_ / numbered("hidden", layers_done_ - 1));
  const st::TensorInfo* info = file->find("hidden");
  if (!info) throw Error("the resume state " + file->path().string() + " lacks the hidden states; rerun with --no-resume");
  return borrow_dl(view_of(file->view(*info)), "hidden").clone();
}

uint64_t ResumeStore::bytes_on_disk() const {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

std::string describe_files(const std::vector<fs::path>& files) {
  std::string out;
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    const auto mtime = fs::last_write_time(f, ec).time_since_epoch().count();
    out += (out.empty() ? "" : ", ") + f.filename().string() + ":" + std::to_string(size) + ":" + std::to_string(mtime);
  }
  return out;
}

std::string hash_tensor(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  for (int64_t d : c.sizes()) mix(reinterpret_cast<const unsigned char*>(&d), sizeof d);
  mix(static_cast<const unsigned char*>(c.data_ptr()), c.numel() * c.element_size());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace qf::pipeline
