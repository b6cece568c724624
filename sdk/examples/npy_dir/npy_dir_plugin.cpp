// Example format plugin: writes every tensor it receives as <name>.npy and lists them in a JSON
// manifest. Built against the installed SDK alone (no host internals): the SDK gives the dtype
// mapping, JSON writing and atomic files.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "npy_file.hpp"
#include "quantforge/atomic_file.hpp"
#include "quantforge/json_writer.hpp"
#include "quantforge/plugin.hpp"
#include "quantforge/safetensors_dtype.hpp"

namespace {

namespace st = qf::sdk::st;

// Tensor names become file names: '/' and other bytes a file name should not hold turn into '_'.
std::string file_name_for(const std::string& tensor) {
  std::string out = tensor;
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '/' || c == '\\' || c == ':') c = '_';
  }
  if (out.empty() || out[0] == '.') out.insert(0, "_");  // no hidden files, no "." or ".."
  return out + ".npy";
}

class NpyDir {
 public:
  explicit NpyDir(qf::sdk::Session& session) : session_(session), manifest_(session.get_string("manifest")) {}

  // The tensor is borrowed: it is written out before returning.
  void add_tensor(const std::string& name, const DLTensor& t) {
    const st::TensorBytes b = st::tensor_bytes(name, t);  // checks CPU, compact, a known dtype
    const std::string file = file_name_for(name);
    const auto [it, fresh] = files_.emplace(file, name);
    if (!fresh) throw std::invalid_argument("tensors '" + it->second + "' and '" + name + "' both map to " + file);
    qf::sdk::AtomicFile out(session_.create_output(file));
    const std::string head = npy::header(b.dtype, b.shape);
    out.write(head.data(), head.size());
    out.write(b.data, b.nbytes);
    out.commit();
    entries_.push_back({name, file, b.dtype, b.shape});
  }

  void add_shard(const std::string&, const std::vector<std::string>&, uint64_t) {}  // not ours

  void finish() {
    qf::sdk::json::Writer w(2);
    w.begin_object().field("format", "npy_dir").key("tensors").begin_array();
    for (const auto& e : entries_) {
      w.begin_object().field("name", e.name).field("file", e.file).field("dtype", st::dtype_name(e.dtype));
      w.field_array("shape", e.shape.begin(), e.shape.end()).end_object();
    }
    w.end_array().end_object();
    qf::sdk::write_file_atomically(session_.create_output(manifest_), w.str() + "\n");
  }

 private:
  struct Entry {
    std::string name, file;
    st::DType dtype;
    std::vector<int64_t> shape;
  };
  qf::sdk::Session& session_;
  std::string manifest_;
  std::map<std::string, std::string> files_;  // file -> tensor, to refuse two tensors in one file
  std::vector<Entry> entries_;                // in arrival order
};

const qf_option_desc kOptions[] = {
    {sizeof(qf_option_desc), "manifest", QF_OPTION_STRING, "\"npy_manifest.json\"",
     "the JSON file listing each tensor's file, dtype and shape"},
};

}  // namespace

QF_DEFINE_FORMAT_PLUGIN(NpyDir, "npy_dir", "0.1.0", "one NumPy .npy file per tensor, plus a JSON manifest", kOptions)
