#include "safetensors/layout.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace qf::st::detail {

void check_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape, uint64_t nbytes,
                  const std::string& file) {
  auto fail = [&](const std::string& msg) { throw Error(file + ": tensor '" + name + "': " + msg); };
  if (name == "__metadata__") fail("the name is reserved for the header's metadata");
  try {
    (void)nlohmann::json(name).dump();  // strict UTF-8 check: the header must be valid JSON
  } catch (const nlohmann::json::exception&) {
    fail("the name is not valid UTF-8");
  }
  auto expect = byte_size(dtype, shape);
  if (!expect) fail("shape has a negative dimension or its byte size overflows");
  if (*expect != nbytes)
    fail("got " + std::to_string(nbytes) + " bytes but " + std::string(dtype_name(dtype)) + " x shape needs " +
         std::to_string(*expect));
}

void sort_reference(std::vector<Planned>& tensors, const std::string& file) {
  std::sort(tensors.begin(), tensors.end(), [](const Planned& a, const Planned& b) {
    const int ra = dtype_alignment_rank(a.dtype), rb = dtype_alignment_rank(b.dtype);
    if (ra != rb) return ra > rb;
    return *a.name < *b.name;
  });
  // Equal names have equal dtype or not; check all pairs cheaply through a sorted copy of names.
  std::vector<const std::string*> names;
  names.reserve(tensors.size());
  for (const auto& t : tensors) names.push_back(t.name);
  std::sort(names.begin(), names.end(), [](auto* a, auto* b) { return *a < *b; });
  auto dup = std::adjacent_find(names.begin(), names.end(), [](auto* a, auto* b) { return *a == *b; });
  if (dup != names.end()) throw Error(file + ": tensor '" + **dup + "' is given twice");
}

std::string encode_header(const std::vector<Planned>& ordered, const Metadata& metadata, const std::string& file) {
  // ordered_json keeps insertion order: __metadata__ first, then tensors in data order (as serde does).
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  auto& md = root["__metadata__"];
  auto fmt = metadata.find("format");
  md["format"] = fmt == metadata.end() ? "pt" : fmt->second;
  for (const auto& [k, v] : metadata)
    if (k != "format") md[k] = v;
  uint64_t offset = 0;
  for (const auto& t : ordered) {
    nlohmann::ordered_json e;
    e["dtype"] = dtype_name(t.dtype);
    e["shape"] = *t.shape;
    e["data_offsets"] = {offset, offset + t.nbytes};
    offset += t.nbytes;
    root[*t.name] = std::move(e);
  }
  std::string json;
  try {
    json = root.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": metadata is not valid UTF-8 (" + e.what() + ")");
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace qf::st::detail
