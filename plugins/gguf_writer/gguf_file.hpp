// GGUF v3 files (little-endian, the layout llama.cpp's ggml reads): key/value metadata, tensor
// infos, then tensor data, each tensor aligned to `general.alignment` (32 unless set).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace qf::gguf {

// ggml tensor types we write (ggml.h numbering).
enum class TensorType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 8, Q6_K = 14, BF16 = 30 };
const char* type_name(TensorType t);       // "Q4_0", ...
int64_t block_elements(TensorType t);      // 32 for Q4_0/Q4_1/Q8_0, 256 for Q6_K, 1 otherwise
uint64_t block_bytes(TensorType t);        // bytes per block (or per element)
uint64_t tensor_bytes(TensorType t, int64_t elements);

// GGUF metadata value types (gguf.h numbering).
enum class ValueType : uint32_t { U8 = 0, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };

using StringArray = std::vector<std::string>;
using Value = std::variant<uint32_t, int32_t, float, bool, std::string, uint64_t, StringArray, std::vector<int32_t>,
                           std::vector<float>>;

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the contiguous dimension
  TensorType type = TensorType::F32;
  uint64_t nbytes = 0;
};

constexpr uint32_t kAlignment = 32;

// Writes a complete GGUF file to `path` atomically: `write_data(i, sink)` must produce exactly
// tensors[i].nbytes bytes through `sink` (called in order).
using DataSink = std::function<void(const void* data, std::size_t n)>;
void write_file(const std::string& path, const std::vector<KeyValue>& metadata, const std::vector<TensorInfo>& tensors,
                const std::function<void(std::size_t index, const DataSink& sink)>& write_data);

}  // namespace qf::gguf
