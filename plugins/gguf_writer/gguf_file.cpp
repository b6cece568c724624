#include "gguf_file.hpp"

#include <cstring>
#include <stdexcept>

#include "quantforge/atomic_file.hpp"

namespace qf::gguf {

const char* type_name(TensorType t) {
  switch (t) {
    case TensorType::F32: return "F32";
    case TensorType::F16: return "F16";
    case TensorType::BF16: return "BF16";
    case TensorType::Q4_0: return "Q4_0";
    case TensorType::Q4_1: return "Q4_1";
    case TensorType::Q8_0: return "Q8_0";
    case TensorType::Q6_K: return "Q6_K";
  }
  return "?";
}

int64_t block_elements(TensorType t) {
  if (t == TensorType::Q6_K) return 256;
  return (t == TensorType::Q4_0 || t == TensorType::Q4_1 || t == TensorType::Q8_0) ? 32 : 1;
}

uint64_t block_bytes(TensorType t) {
  switch (t) {
    case TensorType::F32: return 4;
    case TensorType::F16:
    case TensorType::BF16: return 2;
    case TensorType::Q4_0: return 18;  // fp16 d + 16 bytes of nibbles
    case TensorType::Q4_1: return 20;  // fp16 d, fp16 m + 16 bytes of nibbles
    case TensorType::Q8_0: return 34;  // fp16 d + 32 int8
    case TensorType::Q6_K: return 210;  // 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, fp16 d
  }
  return 0;
}

uint64_t tensor_bytes(TensorType t, int64_t elements) {
  const int64_t per = block_elements(t);
  if (elements % per != 0)
    throw std::invalid_argument(std::string(type_name(t)) + " needs a multiple of " + std::to_string(per) + " elements");
  return static_cast<uint64_t>(elements / per) * block_bytes(t);
}

namespace {

// Little-endian serialisation into a growing buffer (x86-64 and aarch64 hosts are little-endian).
class Buffer {
 public:
  template <class T>
  void pod(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

template <class T>
void array(Buffer& b, ValueType type, const std::vector<T>& v) {
  b.pod<uint32_t>(static_cast<uint32_t>(ValueType::ARRAY));
  b.pod<uint32_t>(static_cast<uint32_t>(type));
  b.pod<uint64_t>(v.size());
  for (const T& x : v) b.pod<T>(x);
}

void value(Buffer& b, const Value& v) {
  struct Visitor {
    Buffer& b;
    void scalar(ValueType t) const { b.pod<uint32_t>(static_cast<uint32_t>(t)); }
    void operator()(uint32_t x) const { scalar(ValueType::U32), b.pod(x); }
    void operator()(int32_t x) const { scalar(ValueType::I32), b.pod(x); }
    void operator()(float x) const { scalar(ValueType::F32), b.pod(x); }
    void operator()(bool x) const { scalar(ValueType::BOOL), b.pod<uint8_t>(x ? 1 : 0); }
    void operator()(uint64_t x) const { scalar(ValueType::U64), b.pod(x); }
    void operator()(const std::string& s) const { scalar(ValueType::STRING), b.str(s); }
    void operator()(const StringArray& a) const {
      scalar(ValueType::ARRAY);
      b.pod<uint32_t>(static_cast<uint32_t>(ValueType::STRING));
      b.pod<uint64_t>(a.size());
      for (const auto& s : a) b.str(s);
    }
    void operator()(const std::vector<int32_t>& a) const { array(b, ValueType::I32, a); }
    void operator()(const std::vector<float>& a) const { array(b, ValueType::F32, a); }
  };
  std::visit(Visitor{b}, v);
}

uint64_t aligned(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

void write_file(const std::string& path, const std::vector<KeyValue>& metadata, const std::vector<TensorInfo>& tensors,
                const std::function<void(std::size_t, const DataSink&)>& write_data) {
  Buffer head;
  head.pod<uint32_t>(0x46554747u);  // "GGUF"
  head.pod<uint32_t>(3);
  head.pod<uint64_t>(tensors.size());
  head.pod<uint64_t>(metadata.size());
  for (const auto& kv : metadata) {
    head.str(kv.key);
    value(head, kv.value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name.size() >= 64) throw std::invalid_argument("GGUF tensor name longer than 63 bytes: " + t.name);
    head.str(t.name);
    head.pod<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) head.pod<uint64_t>(static_cast<uint64_t>(d));
    head.pod<uint32_t>(static_cast<uint32_t>(t.type));
    head.pod<uint64_t>(offset);
    offset = aligned(offset + t.nbytes);
  }
  head.pad_to(kAlignment);

  sdk::AtomicFile file(path);
  file.write(head.bytes().data(), head.bytes().size());
  static const uint8_t zeros[kAlignment] = {};
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    uint64_t written = 0;
    write_data(i, [&](const void* data, std::size_t n) {
      file.write(data, n);
      written += n;
    });
    if (written != tensors[i].nbytes)
      throw std::logic_error("GGUF tensor " + tensors[i].name + ": wrote " + std::to_string(written) + " bytes, expected " +
                             std::to_string(tensors[i].nbytes));
    file.write(zeros, aligned(written) - written);
  }
  file.commit();
}

}  // namespace qf::gguf
