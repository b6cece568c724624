// ShardedWriter: the SDK's, spooling to an anonymous file in the host's spool folder.
#include <unistd.h>

#include "quantforge/sharded_writer.hpp"
#include "safetensors/sdk_errors.hpp"
#include "safetensors/writer.hpp"

namespace qf::st {
namespace fs = std::filesystem;

ShardedWriter::ShardedWriter(uint64_t max_shard_size, const fs::path& spool_dir, Metadata metadata) {
  detail::sdk_call([&] {
    std::string spool;  // a fresh name, so two writers never share a spool; the SDK removes it at once
    ::close(sdk::create_unique((spool_dir / "qf-spool").string(), spool, /*read_write=*/true));
    impl_ = std::make_unique<sdk::st::ShardedWriter>(max_shard_size, spool, std::move(metadata));
  });
}

ShardedWriter::~ShardedWriter() = default;

void ShardedWriter::add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
                        std::size_t nbytes) {
  detail::sdk_call([&] { impl_->add(name, dtype, shape, data, nbytes); });
}

std::vector<ShardInfo> ShardedWriter::finish(const std::function<fs::path(std::size_t, std::size_t)>& path_for) {
  const auto shards =
      detail::sdk_call([&] { return impl_->finish([&](std::size_t i, std::size_t n) { return path_for(i, n).string(); }); });
  std::vector<ShardInfo> out;
  for (const auto& s : shards) out.push_back({s.path, s.names, s.data_bytes});
  return out;
}

std::size_t ShardedWriter::tensor_count() const { return impl_->tensor_count(); }
uint64_t ShardedWriter::total_bytes() const { return impl_->total_bytes(); }

std::string shard_file_name(const std::string& prefix, const std::string& suffix, std::size_t i, std::size_t n) {
  return sdk::st::shard_file_name(prefix, suffix, i, n);
}

}  // namespace qf::st
