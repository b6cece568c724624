// Checkpoint: one name -> tensor table over a model directory's safetensors files.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/error.hpp"
#include "safetensors/json_strict.hpp"
#include "safetensors/reader.hpp"

namespace qf::st {
namespace fs = std::filesystem;
namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  return os.str();
}

// Index entries are joined to the model directory: refuse anything that could leave it.
bool escapes_dir(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) return true;
  for (const auto& part : rel)
    if (part == "..") return true;
  return false;
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& dir, const std::string& index_name) {
  std::error_code ec;  // std::filesystem would throw its own exception type; we promise qf::Error
  if (!fs::is_directory(dir, ec)) throw Error(dir.string() + ": not a directory");
  const fs::path index_path = dir / index_name;
  if (!fs::exists(index_path, ec)) {
    if (fs::exists(dir / "model.safetensors", ec)) return open_files({dir / "model.safetensors"});
    std::vector<fs::path> found;
    std::error_code fe;  // a dangling entry is skipped, not a listing failure
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".safetensors" && fs::is_regular_file(it->path(), fe)) found.push_back(it->path());
    if (ec) throw Error(dir.string() + ": cannot list: " + ec.message());
    if (found.size() == 1) return open_files(found);
    if (found.empty()) throw Error(dir.string() + ": no .safetensors file and no " + index_name);
    std::sort(found.begin(), found.end());
    std::string list;
    for (const auto& p : found) list += " " + p.filename().string();
    throw Error(dir.string() + ": several .safetensors files but no " + index_name + " to say how they go together:" +
                list);
  }

  const std::string idx = index_path.string();
  const nlohmann::json root = detail::parse_json_strict(read_text(index_path), idx);
  if (!root.is_object()) throw Error(idx + ": not a JSON object");
  auto wm = root.find("weight_map");
  if (wm == root.end() || !wm->is_object()) throw Error(idx + ": missing \"weight_map\" object");

  // file -> tensors it should hold; std::map keeps the shard order deterministic.
  std::map<std::string, std::vector<std::string>> by_file;
  for (const auto& [tensor, file] : wm->items()) {
    if (!file.is_string()) throw Error(idx + ": tensor '" + tensor + "': weight_map value is not a string");
    const std::string name = file.get<std::string>();
    if (escapes_dir(fs::path(name)))
      throw Error(idx + ": tensor '" + tensor + "': file \"" + name + "\" is not a plain path inside the model directory");
    by_file[name].push_back(tensor);
  }

  Checkpoint c;
  for (const auto& [name, tensors] : by_file) {
    const fs::path path = dir / name;
    if (!fs::is_regular_file(path, ec))
      throw Error(idx + ": tensor '" + tensors.front() + "' is mapped to \"" + name + "\", which does not exist");
    auto file = SafetensorsFile::open(path);
    for (const auto& t : tensors) {
      const TensorInfo* info = file->find(t);
      if (!info) throw Error(idx + ": tensor '" + t + "' is mapped to \"" + name + "\", which does not contain it");
      c.index_.emplace(t, std::make_pair(c.files_.size(), info));
    }
    // Tensors in the shard that the weight_map does not name are ignored, as transformers does.
    c.files_.push_back(std::move(file));
  }
  return c;
}

Checkpoint Checkpoint::open_files(const std::vector<fs::path>& files) {
  Checkpoint c;
  for (const auto& path : files) {
    auto file = SafetensorsFile::open(path);
    for (const auto& t : file->header().tensors) {
      auto [it, fresh] = c.index_.emplace(t.name, std::make_pair(c.files_.size(), &t));
      if (!fresh)
        throw Error(path.string() + ": tensor '" + t.name + "' is also in " + c.files_[it->second.first]->path().string());
    }
    c.files_.push_back(std::move(file));
  }
  return c;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& kv : index_) out.push_back(kv.first);
  return out;
}

bool Checkpoint::contains(std::string_view name) const { return index_.find(name) != index_.end(); }

void Checkpoint::release_pages(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  const TensorView v = files_[it->second.first]->view(*it->second.second);
  v.owner->release_pages(v.data, v.info->nbytes());
}

TensorView Checkpoint::get(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    std::string where = files_.empty() ? "an empty checkpoint" : files_.front()->path().parent_path().string();
    throw Error("tensor '" + std::string(name) + "' not found in " + where);
  }
  return files_[it->second.first]->view(*it->second.second);
}

}  // namespace qf::st
