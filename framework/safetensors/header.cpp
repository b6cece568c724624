// parse_header: the validation rules of safetensors' tensor.rs, plus duplicate-name detection.
#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "safetensors/json_strict.hpp"
#include "safetensors/reader.hpp"

namespace qf::st {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& msg) { throw Error(file + ": " + msg); }
[[noreturn]] void fail_tensor(const std::string& file, const std::string& name, const std::string& msg) {
  throw Error(file + ": tensor '" + name + "': " + msg);
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string range_str(uint64_t b, uint64_t e) { return "[" + std::to_string(b) + ", " + std::to_string(e) + "]"; }

const json& field(const json& entry, const char* key, const std::string& file, const std::string& name) {
  auto it = entry.find(key);
  if (it == entry.end()) fail_tensor(file, name, std::string("missing \"") + key + "\"");
  return *it;
}

// A JSON array of non-negative integers that fit int64 (shape dims and offsets both obey this).
std::vector<int64_t> uint_array(const json& v, const char* key, const std::string& file, const std::string& name) {
  if (!v.is_array()) fail_tensor(file, name, std::string("\"") + key + "\" is not an array");
  std::vector<int64_t> out;
  for (const auto& x : v) {
    if (!x.is_number_unsigned() || x.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      fail_tensor(file, name, std::string("\"") + key + "\" holds " + x.dump() + ", not a non-negative integer");
    out.push_back(x.get<int64_t>());
  }
  return out;
}

TensorInfo parse_entry(const std::string& name, const json& entry, const std::string& file) {
  if (!entry.is_object()) fail_tensor(file, name, std::string("entry is a JSON ") + entry.type_name() + ", not an object");
  TensorInfo t;
  t.name = name;

  const json& dt = field(entry, "dtype", file, name);
  if (!dt.is_string()) fail_tensor(file, name, "\"dtype\" is not a string");
  auto parsed = parse_dtype(dt.get_ref<const std::string&>());
  if (!parsed)
    fail_tensor(file, name, "unknown dtype \"" + dt.get<std::string>() + "\" (supported: " + supported_dtype_names() + ")");
  t.dtype = *parsed;

  t.shape = uint_array(field(entry, "shape", file, name), "shape", file, name);
  auto offsets = uint_array(field(entry, "data_offsets", file, name), "data_offsets", file, name);
  if (offsets.size() != 2) fail_tensor(file, name, "\"data_offsets\" must hold exactly 2 numbers");
  t.begin = uint64_t(offsets[0]);
  t.end = uint64_t(offsets[1]);
  if (t.begin > t.end) fail_tensor(file, name, "data_offsets " + range_str(t.begin, t.end) + " begin after end");

  auto expect = byte_size(t.dtype, t.shape);
  if (!expect)
    fail_tensor(file, name, "shape " + shape_str(t.shape) + " overflows 64-bit byte size");
  if (*expect != t.nbytes())
    fail_tensor(file, name, "data_offsets " + range_str(t.begin, t.end) + " span " + std::to_string(t.nbytes()) +
                                " bytes but " + std::string(dtype_name(t.dtype)) + " x " + shape_str(t.shape) +
                                " needs " + std::to_string(*expect));
  return t;
}

std::map<std::string, std::string> parse_metadata(const json& v, const std::string& file) {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;  // the reference deserializes it as Option<HashMap<String, String>>
  if (!v.is_object()) fail(file, "\"__metadata__\" is not an object");
  for (const auto& [k, x] : v.items()) {
    if (!x.is_string()) fail(file, "\"__metadata__\" value for \"" + k + "\" is a " + x.type_name() + ", not a string");
    out[k] = x.get<std::string>();
  }
  return out;
}

// Sorted by offsets, each tensor must start where the previous ended and the last must end at the
// end of the buffer: this rejects overlaps and holes alike (the reference requires full coverage).
void check_coverage(std::vector<TensorInfo>& tensors, uint64_t data_size, const std::string& file) {
  std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const TensorInfo* prev = nullptr;
  for (const auto& t : tensors) {
    if (t.end > data_size)
      fail_tensor(file, t.name, "data_offsets " + range_str(t.begin, t.end) + " go past the data buffer (" +
                                    std::to_string(data_size) + " bytes)");
    if (t.begin < covered)
      fail_tensor(file, t.name, "data_offsets " + range_str(t.begin, t.end) + " overlap tensor '" + prev->name +
                                    "' " + range_str(prev->begin, prev->end));
    if (t.begin > covered)
      fail_tensor(file, t.name, "hole in the data buffer: bytes " + range_str(covered, t.begin) +
                                    " before this tensor belong to no tensor");
    covered = t.end;
    prev = &t;
  }
  if (covered != data_size)
    fail(file, "hole in the data buffer: bytes " + range_str(covered, data_size) + " at the end belong to no tensor" +
                   (prev ? " (last tensor '" + prev->name + "')" : ""));
}

}  // namespace

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= uint64_t(d);  // validated: cannot overflow since bytes fit
  return n;
}

Header parse_header(std::string_view text, uint64_t data_size, const std::string& file) {
  const json root = detail::parse_json_strict(text, file + ": header");
  if (!root.is_object()) fail(file, std::string("header is a JSON ") + root.type_name() + ", not an object");
  Header h;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__")
      h.metadata = parse_metadata(value, file);
    else
      h.tensors.push_back(parse_entry(key, value, file));
  }
  check_coverage(h.tensors, data_size, file);
  return h;
}

}  // namespace qf::st
