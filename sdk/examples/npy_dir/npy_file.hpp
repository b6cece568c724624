#pragma once
// The NumPy .npy format, version 1.0, as numpy.save writes it: magic "\x93NUMPY", version 1 0, a
// little-endian uint16 header length, a Python dict literal padded with spaces and ended by '\n' so
// the data starts at a multiple of 64 bytes (numpy's format.py, _write_array_header), then the
// data in C order.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "quantforge/safetensors_dtype.hpp"

namespace npy {

// numpy's type string for a safetensors dtype. BF16 has none: it is stored as its bits ('<u2') and
// the manifest says BF16, so a reader can view the array as bfloat16.
inline const char* descr(qf::sdk::st::DType t) {
  using qf::sdk::st::DType;
  switch (t) {
    case DType::F64: return "<f8";
    case DType::F32: return "<f4";
    case DType::F16: return "<f2";
    case DType::BF16: return "<u2";
    case DType::I64: return "<i8";
    case DType::I32: return "<i4";
    case DType::I16: return "<i2";
    case DType::I8: return "|i1";
    case DType::U8: return "|u1";
    case DType::BOOL: return "|b1";
  }
  return "|u1";
}

// Everything before the data.
inline std::string header(qf::sdk::st::DType t, const std::vector<int64_t>& shape) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  if (shape.size() > 1) dims.erase(dims.size() - 2);  // "(2, 3)"; one dimension keeps its comma: "(5,)"
  else if (shape.size() == 1) dims.pop_back();
  std::string dict = std::string("{'descr': '") + descr(t) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // numpy leaves room to rewrite the first dimension in place (up to 21 digits) when it grows.
  if (!shape.empty()) dict.append(21 - std::min<std::size_t>(21, std::to_string(shape[0]).size()), ' ');
  const std::size_t prefix = 10;  // magic 6 + version 2 + length 2
  const std::size_t pad = 64 - (prefix + dict.size() + 1) % 64;  // 1..64, as numpy pads
  dict.append(pad, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  return out + dict;
}

}  // namespace npy
