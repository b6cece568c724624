// write_file / encode_file_header: one complete safetensors file from borrowed tensor bytes.
#include "common/error.hpp"
#include "safetensors/atomic_file.hpp"
#include "safetensors/layout.hpp"

namespace qf::st {
namespace {

std::vector<detail::Planned> plan(const std::vector<TensorRef>& tensors, const std::string& file) {
  std::vector<detail::Planned> out;
  out.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorRef& t = tensors[i];
    detail::check_tensor(t.name, t.dtype, t.shape, t.nbytes, file);
    if (t.nbytes > 0 && t.data == nullptr) throw Error(file + ": tensor '" + t.name + "': data pointer is null");
    out.push_back({&t.name, t.dtype, &t.shape, t.nbytes, i});
  }
  detail::sort_reference(out, file);
  return out;
}

}  // namespace

std::string encode_file_header(const std::vector<TensorRef>& tensors, const Metadata& metadata,
                               const std::string& file) {
  return detail::encode_header(plan(tensors, file), metadata, file);
}

void write_file(const std::filesystem::path& path, const std::vector<TensorRef>& tensors, const Metadata& metadata) {
  const std::string file = path.string();
  const auto ordered = plan(tensors, file);  // every check runs before any file exists
  const std::string header = detail::encode_header(ordered, metadata, file);
  detail::AtomicFile out(path);
  out.write(header.data(), header.size());
  for (const auto& t : ordered) out.write(tensors[t.source].data, t.nbytes);
  out.commit();
}

}  // namespace qf::st
