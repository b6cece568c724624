// SafetensorsFile: map a file, check the 8-byte length prefix, parse the header, hand out views.
#include "safetensors/reader.hpp"

#include "common/error.hpp"

namespace qf::st {
namespace {

// safetensors' own MAX_HEADER_SIZE: larger lengths are corrupt, not big models.
constexpr uint64_t kMaxHeaderSize = 100'000'000;

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint64_t(p[i]);
  return v;
}

}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto f = std::make_shared<SafetensorsFile>();
  f->map_ = std::make_shared<const MappedFile>(path);
  const MappedFile& m = *f->map_;
  const std::string file = path.string();
  if (m.size() < 8)
    throw Error(file + ": file is " + std::to_string(m.size()) + " bytes, shorter than the 8-byte header length");
  const uint64_t n = read_u64_le(m.data());
  if (n > kMaxHeaderSize)
    throw Error(file + ": header length " + std::to_string(n) + " is absurd (limit " + std::to_string(kMaxHeaderSize) +
                " bytes); not a safetensors file?");
  if (n > m.size() - 8)
    throw Error(file + ": header length " + std::to_string(n) + " goes beyond the end of the file (" +
                std::to_string(m.size()) + " bytes)");
  f->data_start_ = 8 + n;
  const std::string_view text(reinterpret_cast<const char*>(m.data() + 8), n);
  f->header_ = parse_header(text, m.size() - f->data_start_, file);
  for (std::size_t i = 0; i < f->header_.tensors.size(); ++i) f->by_name_.emplace(f->header_.tensors[i].name, i);
  return f;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &header_.tensors[it->second];
}

TensorView SafetensorsFile::view(const TensorInfo& info) const {
  QF_ASSERT(data_start_ + info.end <= map_->size(), "tensor view outside its file");
  // Aliasing pointer: points at the map but owns this file, so `info` stays valid as long as the view.
  std::shared_ptr<const MappedFile> owner(shared_from_this(), map_.get());
  return TensorView{&info, map_->data() + data_start_ + info.begin, std::move(owner)};
}

}  // namespace qf::st
