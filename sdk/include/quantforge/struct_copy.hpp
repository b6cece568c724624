// Out-struct copying by the ABI's growth rule, shared by the host and the SDK's adapters.
//
// The caller of a function with an out-struct sets struct_size to its own sizeof and fills
// defaults; the callee fills a complete struct of its own version and copies only the first
// min(caller's struct_size, callee's sizeof) bytes, keeping the caller's struct_size. So a newer
// callee never writes past an older caller's struct, and an older callee leaves a newer caller's
// extra fields at their defaults.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace qf::abi {

// Copies `filled` into `out` by the rule above. `out` must point at a struct whose first member
// is a uint32_t struct_size set by the caller; it must be at least sizeof(uint32_t) bytes.
template <class T>
void copy_out(T* out, const T& filled) noexcept {
  static_assert(std::is_trivially_copyable<T>::value, "ABI structs are plain C structs");
  uint32_t caller_size = 0;
  std::memcpy(&caller_size, out, sizeof caller_size);
  const std::size_t n = std::min<std::size_t>(caller_size, sizeof(T));
  if (n <= sizeof(uint32_t)) return;
  std::memcpy(reinterpret_cast<unsigned char*>(out) + sizeof(uint32_t),
              reinterpret_cast<const unsigned char*>(&filled) + sizeof(uint32_t), n - sizeof(uint32_t));
}

// The struct_size the caller set in an out-struct (its first member).
inline uint32_t caller_struct_size(const void* out) noexcept {
  uint32_t size = 0;
  std::memcpy(&size, out, sizeof size);
  return size;
}

}  // namespace qf::abi
