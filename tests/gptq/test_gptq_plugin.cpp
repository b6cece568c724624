// The built libgptq_plugin.so against a mock host session: descriptor and options, the
// true-sequential call order (all grams of a group, then its writes), emitted tensors that
// dequantize to exactly the written weights, the quantization_config, and the errors.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/quant_scheme.hpp"
#include "eval/quantized_source.hpp"
#include "model/weight_source.hpp"
#include "safetensors/reader.hpp"
#include "safetensors/writer.hpp"
#include "support/temp_dir.hpp"
#include "quantforge/packing.hpp"
#include "quantforge/plugin.h"

namespace fs = std::filesystem;

namespace {

struct MockLinear {
  std::string short_name;
  int64_t in, out;
  uint32_t group;
  at::Tensor weight;  // fp32 [out, in]
  at::Tensor input;   // fp32 [tokens, in]
};

struct Emitted {
  std::vector<int64_t> shape;
  DLDataType dtype;
  std::vector<uint8_t> bytes;
};

struct Mock {
  std::map<std::string, std::string> options;  // textual values
  std::vector<MockLinear> linears;
  std::vector<std::string> events;
  std::map<std::string, Emitted> emitted;
  std::string config;
  bool calibration = true;
  std::vector<std::string> logs;
};
Mock* g_mock = nullptr;

Mock& mock(qf_session*) { return *g_mock; }
MockLinear& find(const char* short_name) {
  for (auto& l : g_mock->linears)
    if (l.short_name == short_name) return l;
  throw std::runtime_error("unknown linear");
}
int32_t fail(qf_error* err, int32_t code, const char* msg) {
  err->code = code;
  std::strncpy(err->message, msg, QF_ERROR_MESSAGE_CAPACITY - 1);
  return code;
}
const char* opt(qf_session* s, const char* name) {
  auto it = mock(s).options.find(name);
  return it == mock(s).options.end() ? nullptr : it->second.c_str();
}

bool progress(qf_session*, const char*, uint64_t, uint64_t) { return true; }
int32_t get_bool(qf_session* s, const char* n, bool* out, qf_error* e) {
  const char* v = opt(s, n);
  if (!v) return fail(e, QF_ERR_NOT_FOUND, n);
  *out = std::string(v) == "true";
  return QF_OK;
}
int32_t get_int(qf_session* s, const char* n, int64_t* out, qf_error* e) {
  const char* v = opt(s, n);
  if (!v) return fail(e, QF_ERR_NOT_FOUND, n);
  *out = std::stoll(v);
  return QF_OK;
}
int32_t get_float(qf_session* s, const char* n, double* out, qf_error* e) {
  const char* v = opt(s, n);
  if (!v) return fail(e, QF_ERR_NOT_FOUND, n);
  *out = std::stod(v);
  return QF_OK;
}
int32_t get_string(qf_session*, const char* n, const char**, qf_error* e) { return fail(e, QF_ERR_NOT_FOUND, n); }
uint32_t linear_count(qf_layer*) { return static_cast<uint32_t>(g_mock->linears.size()); }
int32_t linear_info(qf_layer*, uint32_t i, qf_linear_info* out, qf_error*) {
  static std::vector<std::string> names;
  names.resize(g_mock->linears.size());
  const MockLinear& l = g_mock->linears[i];
  names[i] = "model.layers.0." + l.short_name;
  out->name = names[i].c_str();
  out->short_name = l.short_name.c_str();
  out->in_features = l.in;
  out->out_features = l.out;
  out->has_bias = false;
  out->sequential_group = l.group;
  return QF_OK;
}
int32_t read_weight(qf_layer*, const char* n, DLTensor* out, qf_error*) {
  MockLinear& l = find(n);
  static int64_t shape[2];
  shape[0] = l.out;
  shape[1] = l.in;
  *out = DLTensor{};
  out->data = l.weight.data_ptr<float>();
  out->device = DLDevice{kDLCPU, 0};
  out->ndim = 2;
  out->dtype = DLDataType{kDLFloat, 32, 1};
  out->shape = shape;
  return QF_OK;
}
int32_t read_bias(qf_layer*, const char* n, DLTensor*, qf_error* e) { return fail(e, QF_ERR_NOT_FOUND, n); }
int32_t write_weight(qf_layer*, const char* n, const DLTensor* w, qf_error*) {
  MockLinear& l = find(n);
  REQUIRE(w->dtype.code == kDLFloat);
  REQUIRE(w->dtype.bits == 32);
  l.weight = at::from_blob(w->data, {l.out, l.in}, at::kFloat).clone();
  g_mock->events.push_back("write " + l.short_name);
  return QF_OK;
}
int32_t emit_tensor(qf_session* s, const char* name, const DLTensor* t, qf_error*) {
  Emitted e;
  e.shape.assign(t->shape, t->shape + t->ndim);
  e.dtype = t->dtype;
  int64_t n = 1;
  for (int64_t d : e.shape) n *= d;
  const auto* p = static_cast<const uint8_t*>(t->data) + t->byte_offset;
  e.bytes.assign(p, p + n * t->dtype.bits / 8);
  mock(s).emitted[name] = e;
  return QF_OK;
}
int32_t set_config(qf_session* s, const char* json, qf_error*) {
  mock(s).config = json;
  return QF_OK;
}
int32_t input_gram(qf_layer*, const char* n, DLTensor* gram, int64_t* tokens, qf_error*) {
  MockLinear& l = find(n);
  REQUIRE(gram->ndim == 2);
  REQUIRE(gram->shape[0] == l.in);
  // Inputs "recomputed" from the current weights: the second group's input depends on the first's.
  at::Tensor x = l.input;
  if (l.group == 1) x = at::cat({l.input.narrow(1, 0, 64), g_mock->linears[0].input.matmul(g_mock->linears[0].weight.t())}, 1);
  at::from_blob(gram->data, {l.in, l.in}, at::kFloat).copy_(x.t().matmul(x));
  *tokens = x.size(0);
  g_mock->events.push_back("gram " + l.short_name);
  return QF_OK;
}
const qf_calibration_api kCalib = {sizeof(qf_calibration_api), nullptr, &input_gram, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
const void* get_extension(qf_session*, const char* id) {
  return g_mock->calibration && std::strcmp(id, QF_CALIBRATION_EXTENSION_ID) == 0 ? &kCalib : nullptr;
}
const qf_session_api kApi = {sizeof(qf_session_api), &progress, &get_bool, &get_int, &get_float, &get_string,
                             &linear_count, &linear_info, &read_weight, &read_bias, &write_weight, &emit_tensor,
                             &set_config, nullptr, nullptr, &get_extension, nullptr};

void host_log(int32_t, const char* msg) {
  if (g_mock) g_mock->logs.push_back(msg);
}
const qf_host_api kHost = {sizeof(qf_host_api), QF_ABI_VERSION_MAJOR, QF_ABI_VERSION_MINOR, &host_log, nullptr, nullptr,
                           nullptr, nullptr, nullptr};

const qf_plugin_descriptor* load_plugin() {
  static void* handle = dlopen(QF_PLUGIN_BUILD_DIR "/libgptq_plugin.so", RTLD_NOW | RTLD_LOCAL);
  REQUIRE(handle != nullptr);
  auto entry = reinterpret_cast<qf_plugin_entry_fn>(dlsym(handle, QF_PLUGIN_ENTRY_NAME));
  REQUIRE(entry != nullptr);
  const qf_plugin_descriptor* d = entry();
  qf_error err{};
  REQUIRE(d->init(&kHost, &err) == QF_OK);
  return d;
}

Mock make_mock() {
  Mock m;
  m.options = {{"bits", "4"},          {"group_size", "32"},     {"sym", "true"},
               {"desc_act", "true"},   {"damp_percent", "0.1"},  {"static_groups", "false"},
               {"true_sequential", "true"}, {"damp_auto_increment", "0.01"}, {"rtn_fallback", "false"}};
  at::manual_seed(7);
  const at::Tensor x = at::randn({256, 64}).matmul(at::randn({64, 64}));
  m.linears.push_back({"self_attn.q_proj", 64, 64, 0, at::randn({64, 64}) * 0.05, x});
  m.linears.push_back({"self_attn.k_proj", 64, 32, 0, at::randn({32, 64}) * 0.05, x});
  m.linears.push_back({"mlp.down_proj", 128, 64, 1, at::randn({64, 128}) * 0.05, at::randn({256, 128})});
  return m;
}

}  // namespace

TEST_CASE("gptq plugin: descriptor and option defaults", "[gptq][plugin]") {
  const qf_plugin_descriptor* d = load_plugin();
  CHECK(std::string(d->name) == "gptq");
  CHECK(d->kind == QF_KIND_METHOD);
  std::map<std::string, std::pair<int32_t, std::string>> opts;
  for (uint32_t i = 0; i < d->option_count; ++i) opts[d->options[i].name] = {d->options[i].type, d->options[i].default_value};
  const std::map<std::string, std::pair<int32_t, std::string>> expect = {
      {"bits", {QF_OPTION_INT, "8"}},
      {"group_size", {QF_OPTION_INT, "128"}},
      {"sym", {QF_OPTION_BOOL, "true"}},
      {"desc_act", {QF_OPTION_BOOL, "false"}},
      {"damp_percent", {QF_OPTION_FLOAT, "0.1"}},
      {"static_groups", {QF_OPTION_BOOL, "false"}},
      {"true_sequential", {QF_OPTION_BOOL, "true"}},
      {"damp_auto_increment", {QF_OPTION_FLOAT, "0.01"}},
      {"rtn_fallback", {QF_OPTION_BOOL, "false"}}};
  CHECK(opts == expect);
}

TEST_CASE("gptq plugin quantizes a layer group by group against a mock host", "[gptq][plugin]") {
  const qf_plugin_descriptor* d = load_plugin();
  const auto* vt = static_cast<const qf_method_vtable*>(d->get_interface(QF_METHOD_INTERFACE_ID));
  REQUIRE(vt != nullptr);
  Mock m = make_mock();
  g_mock = &m;
  auto* session = reinterpret_cast<qf_session*>(&m);
  auto* layer = reinterpret_cast<qf_layer*>(&m);
  void* inst = nullptr;
  qf_error err{};
  REQUIRE(vt->create(&kApi, session, &inst, &err) == QF_OK);
  qf_method_requirements req{};
  req.struct_size = sizeof(req);  // the caller says how much it can take
  REQUIRE(vt->requirements(inst, &req, &err) == QF_OK);
  CHECK(req.needs_calibration);
  CHECK(req.propagate_quantized);
  CHECK(req.num_samples == 0);
  CHECK(req.seqlen == 0);

  REQUIRE(vt->quantize_layer(inst, layer, 0, 1, &err) == QF_OK);
  CHECK(m.events == std::vector<std::string>{"gram self_attn.q_proj", "gram self_attn.k_proj", "write self_attn.q_proj",
                                             "write self_attn.k_proj", "gram mlp.down_proj", "write mlp.down_proj"});
  for (const auto& l : m.linears) {
    const std::string p = "model.layers.0." + l.short_name;
    const int64_t ngroups = l.in / 32;
    const Emitted& qw = m.emitted.at(p + ".qweight");
    const Emitted& qz = m.emitted.at(p + ".qzeros");
    const Emitted& sc = m.emitted.at(p + ".scales");
    const Emitted& gi = m.emitted.at(p + ".g_idx");
    CHECK(qw.shape == std::vector<int64_t>{l.in / 8, l.out});
    CHECK(qz.shape == std::vector<int64_t>{ngroups, l.out / 8});
    CHECK(sc.shape == std::vector<int64_t>{ngroups, l.out});
    CHECK(gi.shape == std::vector<int64_t>{l.in});
    CHECK((qw.dtype.code == kDLInt && qw.dtype.bits == 32 && qz.dtype.code == kDLInt && gi.dtype.code == kDLInt));
    CHECK((sc.dtype.code == kDLFloat && sc.dtype.bits == 16));
    // A loader's dequantization of what was emitted equals the weight written back, bit for bit.
    std::vector<int32_t> words(qw.bytes.size() / 4), zwords(qz.bytes.size() / 4);
    std::memcpy(words.data(), qw.bytes.data(), qw.bytes.size());
    std::memcpy(zwords.data(), qz.bytes.data(), qz.bytes.size());
    for (int32_t w : zwords) CHECK(static_cast<uint32_t>(w) == 0x77777777u);  // sym 4-bit v1
    const auto codes = qf::pack::gptq_unpack_qweight(words, l.out, l.in, 4);
    const auto zeros = qf::pack::gptq_unpack_qzeros(zwords, l.out, ngroups, 4, true);
    const at::Tensor scales =
        at::from_blob(const_cast<uint8_t*>(sc.bytes.data()), {ngroups, l.out}, at::kHalf).to(at::kFloat);
    const at::Tensor g_idx = at::from_blob(const_cast<uint8_t*>(gi.bytes.data()), {l.in}, at::kInt).to(at::kLong);
    const at::Tensor c = at::from_blob(const_cast<int32_t*>(codes.data()), {l.out, l.in}, at::kInt).to(at::kFloat);
    const at::Tensor z = at::from_blob(const_cast<int32_t*>(zeros.data()), {l.out, ngroups}, at::kInt).to(at::kFloat);
    const at::Tensor deq = scales.t().index_select(1, g_idx) * (c - z.index_select(1, g_idx));
    CHECK(at::equal(deq, l.weight));
  }
  bool logged = false;
  for (const auto& s : m.logs) logged = logged || (s.find("layer 0 mlp.down_proj: loss=") != std::string::npos);
  CHECK(logged);

  REQUIRE(vt->finish(inst, &err) == QF_OK);
  CHECK(m.config ==
        "{\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": 32, \"desc_act\": true, \"sym\": true, "
        "\"true_sequential\": true, \"damp_percent\": 0.1, \"static_groups\": false, \"checkpoint_format\": \"gptq\", "
        "\"format\": \"gptq\", \"meta\": {\"quantizer\": [\"quantforge:0.1.0\"]}}");
  vt->destroy(inst);

  // asym -> gptq_v2
  m.options["sym"] = "false";
  REQUIRE(vt->create(&kApi, session, &inst, &err) == QF_OK);
  REQUIRE(vt->finish(inst, &err) == QF_OK);
  CHECK(m.config.find("\"checkpoint_format\": \"gptq_v2\", \"format\": \"gptq_v2\"") != std::string::npos);
  vt->destroy(inst);
  g_mock = nullptr;
}

TEST_CASE("gptq plugin errors: no calibration service, bits=3, hopeless Hessian", "[gptq][plugin]") {
  const qf_plugin_descriptor* d = load_plugin();
  const auto* vt = static_cast<const qf_method_vtable*>(d->get_interface(QF_METHOD_INTERFACE_ID));
  Mock m = make_mock();
  g_mock = &m;
  auto* session = reinterpret_cast<qf_session*>(&m);
  void* inst = nullptr;
  qf_error err{};
  m.options["bits"] = "3";
  CHECK(vt->create(&kApi, session, &inst, &err) == QF_ERR_INVALID_ARGUMENT);
  CHECK(std::string(err.message).find("3-bit") != std::string::npos);
  m.options["bits"] = "8";
  m.calibration = false;
  REQUIRE(vt->create(&kApi, session, &inst, &err) == QF_OK);
  CHECK(vt->quantize_layer(inst, reinterpret_cast<qf_layer*>(&m), 0, 1, &err) == QF_ERR_UNSUPPORTED);
  CHECK(std::string(err.message).find("qf.calibration/1") != std::string::npos);
  vt->destroy(inst);
  g_mock = nullptr;
}

TEST_CASE("what the gptq plugin emits reads back through our loader to exactly the fake-quantized weights",
          "[gptq][plugin][readback]") {
  struct Case {
    const char* bits;
    const char* group;
    const char* sym;
    const char* desc_act;
    const char* scheme;
  };
  const Case c = GENERATE(Case{"8", "32", "true", "false", "GPTQ v1 8-bit g32"},
                          Case{"4", "32", "false", "true", "GPTQ v2 4-bit g32"},
                          Case{"2", "-1", "true", "false", "GPTQ v1 2-bit per-row"},
                          Case{"4", "64", "true", "true", "GPTQ v1 4-bit g64"});
  INFO(c.scheme);
  const qf_plugin_descriptor* d = load_plugin();
  const auto* vt = static_cast<const qf_method_vtable*>(d->get_interface(QF_METHOD_INTERFACE_ID));
  Mock m = make_mock();
  m.options["bits"] = c.bits;
  m.options["group_size"] = c.group;
  m.options["sym"] = c.sym;
  m.options["desc_act"] = c.desc_act;
  g_mock = &m;
  void* inst = nullptr;
  qf_error err{};
  REQUIRE(vt->create(&kApi, reinterpret_cast<qf_session*>(&m), &inst, &err) == QF_OK);
  REQUIRE(vt->quantize_layer(inst, reinterpret_cast<qf_layer*>(&m), 0, 1, &err) == QF_OK);
  REQUIRE(vt->finish(inst, &err) == QF_OK);
  vt->destroy(inst);
  g_mock = nullptr;

  // The emitted tensors as a checkpoint file, then the evaluation loader's view of it.
  const qf::test::TempDir tmp("gptq_readback");
  const fs::path& dir = tmp.path();
  std::vector<qf::st::TensorRef> refs;
  for (const auto& [name, e] : m.emitted) {
    const qf::st::DType dt = e.dtype.code == kDLFloat ? qf::st::DType::F16 : qf::st::DType::I32;
    REQUIRE(e.dtype.bits == (e.dtype.code == kDLFloat ? 16 : 32));
    refs.push_back({name, dt, e.shape, e.bytes.data(), e.bytes.size()});
  }
  qf::st::write_file(dir / "model.safetensors", refs);
  const auto scheme = qf::eval::parse_quant_scheme(nlohmann::json::parse(m.config), "quantization_config");
  CHECK(scheme.describe() == c.scheme);
  const qf::eval::QuantizedSource source(
      std::make_shared<qf::model::CheckpointSource>(qf::st::Checkpoint::open(dir)), scheme);
  for (const auto& l : m.linears) {
    const std::string name = "model.layers.0." + l.short_name + ".weight";
    INFO(name);
    REQUIRE(source.is_packed(name));
    const at::Tensor w = source.borrow(name);
    CHECK(w.scalar_type() == at::kFloat);
    CHECK(at::equal(w, l.weight));  // bit for bit: the weight the plugin wrote back for the next group
  }
}
