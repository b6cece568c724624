// Format plugins built on the SDK alone, loaded as the host loads them (dlopen, entry symbol,
// "qf.format/1") and driven through a fake session that stages outputs in a temporary folder:
// the npy_dir example and the bundled safetensors_writer / index_writer.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "quantforge/plugin.h"
#include "sdk_temp_dir.hpp"

namespace {

using sdk_test::read_bytes;
using sdk_test::TempDir;

// What the fake host knows and what the plugin asked of it.
struct FakeRun {
  std::string dir;
  std::map<std::string, std::string> strings;  // option values
  std::map<std::string, bool> bools;
  std::vector<std::string> calls;
  std::vector<std::pair<std::string, std::vector<std::string>>> shards;
};
FakeRun* g_run = nullptr;

int32_t fill_path(const std::string& path, char* out, size_t cap, qf_error* err) {
  if (path.size() + 1 > cap) {
    err->code = QF_ERR_INVALID_ARGUMENT;
    return QF_ERR_INVALID_ARGUMENT;
  }
  std::memcpy(out, path.c_str(), path.size() + 1);
  return QF_OK;
}
int32_t get_string(qf_session*, const char* name, const char** out, qf_error* err) {
  auto it = g_run->strings.find(name);
  if (it == g_run->strings.end()) {
    err->code = QF_ERR_NOT_FOUND;
    std::snprintf(err->message, sizeof err->message, "no option %s", name);
    return QF_ERR_NOT_FOUND;
  }
  *out = it->second.c_str();
  return QF_OK;
}
int32_t get_bool(qf_session*, const char* name, bool* out, qf_error* err) {
  auto it = g_run->bools.find(name);
  if (it == g_run->bools.end()) return err->code = QF_ERR_NOT_FOUND;
  *out = it->second;
  return QF_OK;
}
int32_t create_output(qf_session*, const char* name, char* out, size_t cap, qf_error* err) {
  g_run->calls.push_back(std::string("create_output ") + name);
  return fill_path(g_run->dir + "/" + name, out, cap, err);
}
int32_t create_scratch(qf_session*, const char* name, char* out, size_t cap, qf_error* err) {
  g_run->calls.push_back(std::string("create_scratch ") + name);
  return fill_path(g_run->dir + "/scratch-" + name, out, cap, err);
}
int32_t record_shard(qf_session*, const char* file, const char* const* names, uint32_t n, uint64_t, qf_error*) {
  g_run->shards.push_back({file, std::vector<std::string>(names, names + n)});
  return QF_OK;
}

qf_session_api fake_api() {
  qf_session_api api{};
  api.struct_size = sizeof api;
  api.get_string = &get_string;
  api.get_bool = &get_bool;
  api.create_output = &create_output;
  api.record_shard = &record_shard;
  api.create_scratch = &create_scratch;
  return api;
}

// One loaded plugin's format interface.
struct Loaded {
  void* handle = nullptr;
  const qf_format_vtable* vt = nullptr;
  explicit Loaded(const std::string& path) {
    handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    INFO(path << ": " << (handle ? "" : ::dlerror()));
    REQUIRE(handle != nullptr);
    auto entry = reinterpret_cast<qf_plugin_entry_fn>(::dlsym(handle, "quantforge_plugin_entry"));
    REQUIRE(entry != nullptr);
    const qf_plugin_descriptor* d = entry();
    REQUIRE(d->kind == QF_KIND_FORMAT);
    qf_error err{};
    REQUIRE(d->init(nullptr, &err) == QF_OK);
    vt = static_cast<const qf_format_vtable*>(d->get_interface(QF_FORMAT_INTERFACE_ID));
    REQUIRE(vt != nullptr);
  }
  ~Loaded() { ::dlclose(handle); }
};

DLTensor cpu_tensor(void* data, DLDataType t, std::vector<int64_t>& shape) {
  DLTensor x{};
  x.data = data;
  x.device = {kDLCPU, 0};
  x.ndim = static_cast<int32_t>(shape.size());
  x.dtype = t;
  x.shape = shape.data();
  return x;
}

// numpy.save's header for a C-order array, built by hand from the .npy 1.0 spec; `growth` is the
// spare room numpy leaves after the dict (21 minus the digits of the first dimension).
std::string npy_header(const std::string& dict_body, std::size_t growth) {
  std::string dict = "{" + dict_body + "}" + std::string(growth, ' ');
  const std::size_t pad = 64 - (10 + dict.size() + 1) % 64;
  dict += std::string(pad, ' ') + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + char(dict.size() & 0xff) + char(dict.size() >> 8) + dict;
}

}  // namespace

TEST_CASE("npy_dir example: one .npy per tensor and a manifest, staged through create_output", "[sdk][format][npy]") {
  TempDir dir;
  FakeRun run{dir.path().string(), {{"manifest", "npy_manifest.json"}}, {}, {}, {}};
  g_run = &run;
  // The out-of-tree build test points this at the copy it built against the installed SDK.
  const char* override_path = std::getenv("QF_NPY_DIR_PLUGIN");
  Loaded plugin(override_path ? override_path : QF_NPY_DIR_PLUGIN);
  const qf_session_api api = fake_api();
  qf_error err{};
  void* inst = nullptr;
  REQUIRE(plugin.vt->create(&api, nullptr, &inst, &err) == QF_OK);

  float w[6] = {1, 2, 3, 4, 5, 6};
  int32_t q[3] = {7, 8, 9};
  std::vector<int64_t> s23{2, 3}, s3{3};
  DLTensor tw = cpu_tensor(w, {kDLFloat, 32, 1}, s23);
  DLTensor tq = cpu_tensor(q, {kDLInt, 32, 1}, s3);
  REQUIRE(plugin.vt->add_tensor(inst, "layers.0/w", &tw, &err) == QF_OK);
  REQUIRE(plugin.vt->add_tensor(inst, "q", &tq, &err) == QF_OK);
  // Two tensors, one file name: refused as the user's error, naming both.
  CHECK(plugin.vt->add_tensor(inst, "layers.0_w", &tw, &err) == QF_ERR_INVALID_ARGUMENT);
  CHECK(std::string(err.message).find("'layers.0/w'") != std::string::npos);
  REQUIRE(plugin.vt->finish(inst, &err) == QF_OK);
  plugin.vt->destroy(inst);

  const std::string w_header = npy_header("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 20);
  CHECK(w_header.size() == 128);  // 10 + 60 + 20 + 1 = 91 bytes, padded to the next multiple of 64
  CHECK(read_bytes(dir / "layers.0_w.npy") == w_header + std::string(reinterpret_cast<char*>(w), sizeof w));
  CHECK(read_bytes(dir / "q.npy") ==
        npy_header("'descr': '<i4', 'fortran_order': False, 'shape': (3,), ", 20) +
            std::string(reinterpret_cast<char*>(q), sizeof q));
  CHECK(read_bytes(dir / "npy_manifest.json") ==
        "{\n  \"format\": \"npy_dir\",\n  \"tensors\": [\n"
        "    {\n      \"name\": \"layers.0/w\",\n      \"file\": \"layers.0_w.npy\",\n      \"dtype\": \"F32\",\n"
        "      \"shape\": [\n        2,\n        3\n      ]\n    },\n"
        "    {\n      \"name\": \"q\",\n      \"file\": \"q.npy\",\n      \"dtype\": \"I32\",\n"
        "      \"shape\": [\n        3\n      ]\n    }\n  ]\n}\n");
  CHECK(dir.count() == 3);  // no temporary files left behind
  CHECK(run.calls == std::vector<std::string>{"create_output layers.0_w.npy", "create_output q.npy",
                                              "create_output npy_manifest.json"});
}

TEST_CASE("safetensors_writer and index_writer: SDK-only plugins, spooling in the session scratch", "[sdk][format]") {
  TempDir dir;
  FakeRun run{dir.path().string(),
              {{"max_shard_size", "8"}, {"file_prefix", "model"}, {"file_suffix", ""},
               {"index_file", "model.safetensors.index.json"}},
              {{"always", false}},
              {},
              {}};
  g_run = &run;
  const qf_session_api api = fake_api();
  qf_error err{};
  {
    Loaded writer(std::string(QF_PLUGIN_BUILD_DIR) + "/libsafetensors_writer_plugin.so");
    void* inst = nullptr;
    REQUIRE(writer.vt->create(&api, nullptr, &inst, &err) == QF_OK);
    float a[2] = {1, 2};
    int32_t b[2] = {3, 4};
    std::vector<int64_t> s2{2};
    DLTensor ta = cpu_tensor(a, {kDLFloat, 32, 1}, s2);
    DLTensor tb = cpu_tensor(b, {kDLInt, 32, 1}, s2);
    REQUIRE(writer.vt->add_tensor(inst, "a", &ta, &err) == QF_OK);
    REQUIRE(writer.vt->add_tensor(inst, "b", &tb, &err) == QF_OK);
    DLTensor bad = cpu_tensor(a, {kDLFloat, 8, 1}, s2);
    CHECK(writer.vt->add_tensor(inst, "c", &bad, &err) == QF_ERR_INVALID_ARGUMENT);
    REQUIRE(writer.vt->finish(inst, &err) == QF_OK);
    writer.vt->destroy(inst);
  }
  CHECK(run.calls == std::vector<std::string>{"create_scratch spool", "create_output model-00001-of-00002.safetensors",
                                              "create_output model-00002-of-00002.safetensors"});
  REQUIRE(run.shards.size() == 2);
  CHECK(run.shards[0].first == "model-00001-of-00002.safetensors");
  CHECK(run.shards[1].second == std::vector<std::string>{"b"});
  {
    Loaded index(std::string(QF_PLUGIN_BUILD_DIR) + "/libindex_writer_plugin.so");
    void* inst = nullptr;
    REQUIRE(index.vt->create(&api, nullptr, &inst, &err) == QF_OK);
    for (const auto& [file, names] : run.shards) {
      std::vector<const char*> raw;
      for (const auto& n : names) raw.push_back(n.c_str());
      REQUIRE(index.vt->add_shard(inst, file.c_str(), raw.data(), uint32_t(raw.size()), 8, &err) == QF_OK);
    }
    REQUIRE(index.vt->finish(inst, &err) == QF_OK);
    index.vt->destroy(inst);
  }
  CHECK(read_bytes(dir / "model.safetensors.index.json") ==
        "{\n  \"metadata\": {\n    \"total_size\": 16\n  },\n  \"weight_map\": {\n"
        "    \"a\": \"model-00001-of-00002.safetensors\",\n    \"b\": \"model-00002-of-00002.safetensors\"\n  }\n}\n");
  // The shards and the index; the spool's name was removed as soon as it was opened.
  CHECK(dir.count() == 3);
}
