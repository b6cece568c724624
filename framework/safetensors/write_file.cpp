// write_file / encode_file_header: the SDK's, with host paths and the host's errors.
#include "quantforge/safetensors_writer.hpp"
#include "safetensors/sdk_errors.hpp"
#include "safetensors/writer.hpp"

namespace qf::st {
namespace {

std::vector<sdk::st::TensorRef> to_sdk(const std::vector<TensorRef>& tensors) {
  std::vector<sdk::st::TensorRef> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
  return out;
}

}  // namespace

std::string encode_file_header(const std::vector<TensorRef>& tensors, const Metadata& metadata,
                               const std::string& file) {
  return detail::sdk_call([&] { return sdk::st::encode_file_header(to_sdk(tensors), metadata, file); });
}

void write_file(const std::filesystem::path& path, const std::vector<TensorRef>& tensors, const Metadata& metadata) {
  detail::sdk_call([&] { sdk::st::write_file(path.string(), to_sdk(tensors), metadata); });
}

}  // namespace qf::st
