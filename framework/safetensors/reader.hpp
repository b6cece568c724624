#pragma once
// Zero-copy safetensors reading: files are mmap'ed read-only and tensors are views into the map.
// Every malformed input throws qf::Error naming the file (and the tensor when there is one).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "safetensors/dtype.hpp"

namespace qf::st {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data buffer
  uint64_t end = 0;
  uint64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

struct Header {
  std::vector<TensorInfo> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;
};

// Parses and validates a header (the JSON text after the 8-byte length) against a data buffer of
// `data_size` bytes. Pure function: the fuzz test drives it directly. `file` is only used in messages.
Header parse_header(std::string_view json, uint64_t data_size, const std::string& file);

// A read-only memory map of one file; unmapped when the last owner goes.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops this process's resident pages of [p, p + n) (whole pages inside it): the file is read-only
  // and mapped privately, so they are re-read from the page cache if touched again. Keeps the RSS
  // of a layer-by-layer run flat in the number of layers. Best effort; never fails.
  void release_pages(const std::byte* p, uint64_t n) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
};

// A pointer to a tensor's bytes inside a map, plus the map that keeps it alive. `owner` also keeps
// the SafetensorsFile (and so `info`) alive: it aliases the file object that owns the map.
struct TensorView {
  const TensorInfo* info = nullptr;
  const std::byte* data = nullptr;
  std::shared_ptr<const MappedFile> owner;
};

class SafetensorsFile : public std::enable_shared_from_this<SafetensorsFile> {
 public:
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  const Header& header() const { return header_; }
  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  TensorView view(const TensorInfo& info) const;
  const std::filesystem::path& path() const { return map_->path(); }

 private:
  std::shared_ptr<const MappedFile> map_;
  Header header_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::size_t, std::less<>> by_name_;
};

// A model directory's weights: `model.safetensors`, or the shards named by an index file.
class Checkpoint {
 public:
  // Opens `<dir>/<index_name>` if it exists, else `<dir>/model.safetensors`, else the single
  // `*.safetensors` in dir (an error when there are several and no index).
  static Checkpoint open(const std::filesystem::path& dir,
                         const std::string& index_name = "model.safetensors.index.json");
  // Opens exactly these files (already-resolved paths), e.g. from a layout of our own.
  static Checkpoint open_files(const std::vector<std::filesystem::path>& files);

  std::vector<std::string> names() const;  // sorted
  bool contains(std::string_view name) const;
  TensorView get(std::string_view name) const;  // throws qf::Error naming the tensor when missing
  // MappedFile::release_pages for one tensor's bytes (e.g. after a layer copied them); unknown names are ignored.
  void release_pages(std::string_view name) const;
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<std::size_t, const TensorInfo*>, std::less<>> index_;
};

}  // namespace qf::st
