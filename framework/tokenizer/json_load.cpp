// Builds a Tokenizer::Impl from tokenizer.json (+ tokenizer_config.json). Every error is a qf::Error
// naming the file and the JSON key.
#include <climits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace qf::tok {

namespace {

using json = nlohmann::json;

struct Ctx {
  std::string file;
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw qf::Error(file + ": " + key + ": " + msg);
  }
};

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw qf::Error("tokenizer file not found or unreadable: " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw qf::Error(path + ": invalid JSON: " + e.what());
  }
}

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

const json* find(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string get_str(const Ctx& c, const json& j, const std::string& path, const char* key) {
  const json* v = find(j, key);
  if (!v) c.fail(join(path, key), "missing");
  if (!v->is_string()) c.fail(join(path, key), "expected a string");
  return v->get<std::string>();
}
std::optional<std::string> opt_str(const Ctx& c, const json& j, const std::string& path, const char* key) {
  const json* v = find(j, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) c.fail(join(path, key), "expected a string");
  return v->get<std::string>();
}
bool get_bool(const Ctx& c, const json& j, const std::string& path, const char* key, bool def) {
  const json* v = find(j, key);
  if (!v) return def;
  if (!v->is_boolean()) c.fail(join(path, key), "expected a boolean");
  return v->get<bool>();
}
int64_t get_int(const Ctx& c, const json& j, const std::string& path, const char* key, int64_t def) {
  const json* v = find(j, key);
  if (!v) return def;
  if (!v->is_number_integer()) c.fail(join(path, key), "expected an integer");
  return v->get<int64_t>();
}
const json& get_array(const Ctx& c, const json& j, const std::string& path, const char* key) {
  const json* v = find(j, key);
  if (!v || !v->is_array()) c.fail(join(path, key), "expected an array");
  return *v;
}

Pattern get_pattern(const Ctx& c, const json& j, const std::string& path) {
  const json* p = find(j, "pattern");
  const std::string key = join(path, "pattern");
  if (!p || !p->is_object() || p->size() != 1) c.fail(key, "expected {\"String\": ...} or {\"Regex\": ...}");
  try {
    if (const json* s = find(*p, "String"); s && s->is_string()) return Pattern(s->get<std::string>(), true);
    if (const json* r = find(*p, "Regex"); r && r->is_string()) return Pattern(r->get<std::string>(), false);
  } catch (const std::runtime_error& e) {
    c.fail(key, e.what());
  }
  c.fail(key, "expected {\"String\": ...} or {\"Regex\": ...}");
}

std::string type_of(const Ctx& c, const json& j, const std::string& path) {
  if (!j.is_object()) c.fail(path, "expected an object");
  return get_str(c, j, path, "type");
}

PrependScheme get_prepend_scheme(const Ctx& c, const json& j, const std::string& path) {
  if (auto s = opt_str(c, j, path, "prepend_scheme")) {
    if (*s == "first") return PrependScheme::First;
    if (*s == "always") return PrependScheme::Always;
    if (*s == "never") return PrependScheme::Never;
    c.fail(join(path, "prepend_scheme"), "unknown value '" + *s + "' (expected first, always or never)");
  }
  // Older files: add_prefix_space true/false.
  return get_bool(c, j, path, "add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
}

std::string get_replacement(const Ctx& c, const json& j, const std::string& path) {
  auto r = opt_str(c, j, path, "replacement");
  return r ? *r : std::string("\xE2\x96\x81");  // U+2581
}

NormalizerPtr make_normalizer(const Ctx& c, const json& j, const std::string& path) {
  const std::string type = type_of(c, j, path);
  if (type == "Sequence") {
    std::vector<NormalizerPtr> parts;
    const json& arr = get_array(c, j, path, "normalizers");
    for (std::size_t i = 0; i < arr.size(); ++i)
      parts.push_back(make_normalizer(c, arr[i], path + ".normalizers[" + std::to_string(i) + "]"));
    return make_sequence_normalizer(std::move(parts));
  }
  if (type == "Prepend") return make_prepend_normalizer(get_str(c, j, path, "prepend"));
  if (type == "Replace") return make_replace_normalizer(get_pattern(c, j, path), get_str(c, j, path, "content"));
  if (type == "Strip")
    return make_strip_normalizer(get_bool(c, j, path, "strip_left", false), get_bool(c, j, path, "strip_right", false));
  NormalizerPtr n;
  if (type == "NFC") n = make_unicode_normalizer(UnicodeForm::NFC);
  else if (type == "NFD") n = make_unicode_normalizer(UnicodeForm::NFD);
  else if (type == "NFKC") n = make_unicode_normalizer(UnicodeForm::NFKC);
  else if (type == "NFKD") n = make_unicode_normalizer(UnicodeForm::NFKD);
  else if (type == "Lowercase") n = make_lowercase_normalizer();
  else
    c.fail(join(path, "type"), "unsupported normalizer '" + type +
                                   "' (supported: Sequence, Prepend, Replace, Strip, NFC, NFD, NFKC, NFKD, Lowercase)");
  if (!n) c.fail(join(path, "type"), "normalizer '" + type + "' needs ICU, which this build lacks");
  return n;
}

SplitBehavior get_behavior(const Ctx& c, const json& j, const std::string& path, SplitBehavior def) {
  auto b = opt_str(c, j, path, "behavior");
  if (!b) return def;
  if (*b == "Removed") return SplitBehavior::Removed;
  if (*b == "Isolated") return SplitBehavior::Isolated;
  if (*b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (*b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (*b == "Contiguous") return SplitBehavior::Contiguous;
  c.fail(join(path, "behavior"), "unknown split behavior '" + *b + "'");
}

PreTokenizerPtr make_pre_tokenizer(const Ctx& c, const json& j, const std::string& path) {
  const std::string type = type_of(c, j, path);
  if (type == "Sequence") {
    std::vector<PreTokenizerPtr> parts;
    const json& arr = get_array(c, j, path, "pretokenizers");
    for (std::size_t i = 0; i < arr.size(); ++i)
      parts.push_back(make_pre_tokenizer(c, arr[i], path + ".pretokenizers[" + std::to_string(i) + "]"));
    return make_sequence_pre(std::move(parts));
  }
  if (type == "ByteLevel")
    return make_byte_level_pre(get_bool(c, j, path, "add_prefix_space", true), get_bool(c, j, path, "use_regex", true));
  if (type == "Split")
    return make_split_pre(get_pattern(c, j, path), get_behavior(c, j, path, SplitBehavior::Isolated),
                          get_bool(c, j, path, "invert", false));
  if (type == "Metaspace")
    return make_metaspace_pre(get_replacement(c, j, path), get_prepend_scheme(c, j, path),
                              get_bool(c, j, path, "split", true));
  if (type == "Digits") return make_digits_pre(get_bool(c, j, path, "individual_digits", false));
  if (type == "Whitespace") return make_whitespace_pre();
  if (type == "WhitespaceSplit") return make_whitespace_split_pre();
  if (type == "Punctuation") return make_punctuation_pre(get_behavior(c, j, path, SplitBehavior::Isolated));
  if (type == "BertPreTokenizer") return make_bert_pre();
  c.fail(join(path, "type"), "unsupported pre_tokenizer '" + type +
                                 "' (supported: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, "
                                 "WhitespaceSplit, Punctuation, BertPreTokenizer)");
}

DecoderPtr make_decoder(const Ctx& c, const json& j, const std::string& path) {
  const std::string type = type_of(c, j, path);
  if (type == "Sequence") {
    std::vector<DecoderPtr> parts;
    const json& arr = get_array(c, j, path, "decoders");
    for (std::size_t i = 0; i < arr.size(); ++i)
      parts.push_back(make_decoder(c, arr[i], path + ".decoders[" + std::to_string(i) + "]"));
    return make_sequence_decoder(std::move(parts));
  }
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace") return make_metaspace_decoder(get_replacement(c, j, path), get_prepend_scheme(c, j, path));
  if (type == "Replace") return make_replace_decoder(get_pattern(c, j, path), get_str(c, j, path, "content"));
  if (type == "ByteFallback") return make_byte_fallback_decoder();
  if (type == "Fuse") return make_fuse_decoder();
  if (type == "Strip") {
    const int64_t start = get_int(c, j, path, "start", 0), stop = get_int(c, j, path, "stop", 0);
    if (start < 0 || stop < 0) c.fail(path, "start/stop must be >= 0");
    return make_strip_decoder(get_str(c, j, path, "content"), static_cast<std::size_t>(start),
                              static_cast<std::size_t>(stop));
  }
  if (type == "BPEDecoder") return make_bpe_decoder(opt_str(c, j, path, "suffix").value_or("</w>"));
  c.fail(join(path, "type"), "unsupported decoder '" + type +
                                 "' (supported: Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, "
                                 "Strip, BPEDecoder)");
}

// The single-sequence template of a post-processor; TemplateProcessing pieces may also be strings
// ("$A", "$A:0", "<s>:1").
std::vector<TemplatePart> make_processor(const Ctx& c, const json& j, const std::string& path) {
  const std::string type = type_of(c, j, path);
  if (type == "ByteLevel") return {TemplatePart{true, {}}};
  if (type == "Sequence") {
    std::vector<std::vector<TemplatePart>> stages;
    const json& arr = get_array(c, j, path, "processors");
    for (std::size_t i = 0; i < arr.size(); ++i)
      stages.push_back(make_processor(c, arr[i], path + ".processors[" + std::to_string(i) + "]"));
    return compose_templates(stages);
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto pair_id = [&](const char* key) {
      const json* v = find(j, key);
      if (!v || !v->is_array() || v->size() != 2 || !(*v)[1].is_number_integer())
        c.fail(join(path, key), "expected [token, id]");
      return (*v)[1].get<int32_t>();
    };
    return {TemplatePart{false, {pair_id("cls")}}, TemplatePart{true, {}}, TemplatePart{false, {pair_id("sep")}}};
  }
  if (type != "TemplateProcessing")
    c.fail(join(path, "type"), "unsupported post_processor '" + type +
                                   "' (supported: TemplateProcessing, ByteLevel, Sequence, BertProcessing, "
                                   "RobertaProcessing)");
  const json* specials = find(j, "special_tokens");
  auto special_ids = [&](const std::string& name, const std::string& key) {
    const json* st = specials ? find(*specials, name.c_str()) : nullptr;
    if (!st) c.fail(key, "special token '" + name + "' is not in " + join(path, "special_tokens"));
    const json& ids = get_array(c, *st, join(path, "special_tokens." + name), "ids");
    std::vector<int32_t> out;
    for (const json& v : ids) {
      if (!v.is_number_integer()) c.fail(join(path, "special_tokens." + name + ".ids"), "expected integers");
      out.push_back(v.get<int32_t>());
    }
    return out;
  };
  const json& single = get_array(c, j, path, "single");
  std::vector<TemplatePart> parts;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const json& p = single[i];
    const std::string key = path + ".single[" + std::to_string(i) + "]";
    if (p.is_string()) {  // "$A", "$A:0", "<s>", "<s>:1"
      std::string s = p.get<std::string>();
      if (auto colon = s.rfind(':'); colon != std::string::npos && colon > 0) s = s.substr(0, colon);
      if (!s.empty() && s[0] == '$')
        parts.push_back({true, {}});
      else
        parts.push_back({false, special_ids(s, key)});
    } else if (find(p, "Sequence")) {
      parts.push_back({true, {}});
    } else if (const json* sp = find(p, "SpecialToken")) {
      parts.push_back({false, special_ids(get_str(c, *sp, key + ".SpecialToken", "id"), key)});
    } else {
      c.fail(key, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  return parts;
}

std::unique_ptr<BpeModel> make_model(const Ctx& c, const json& j) {
  const std::string path = "model";
  if (!j.is_object()) c.fail(path, "expected an object");
  std::string type;
  if (const json* t = find(j, "type")) {
    if (!t->is_string()) c.fail("model.type", "expected a string");
    type = t->get<std::string>();
  } else if (find(j, "merges")) {
    type = "BPE";
  }
  if (type != "BPE")
    c.fail("model.type", "unsupported model type '" + (type.empty() ? std::string("<none>") : type) +
                             "' (supported: BPE)");
  if (const json* d = find(j, "dropout"); d && d->is_number() && d->get<double>() > 0.0)
    c.fail("model.dropout", "BPE dropout is not supported (deterministic encoding only)");
  BpeConfig cfg;
  const json* vocab = find(j, "vocab");
  if (!vocab || !vocab->is_object()) c.fail("model.vocab", "expected an object {token: id}");
  cfg.vocab.reserve(vocab->size());
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) c.fail("model.vocab." + it.key(), "expected an integer id");
    cfg.vocab.emplace_back(it.key(), it.value().get<int32_t>());
  }
  if (const json* merges = find(j, "merges")) {
    if (!merges->is_array()) c.fail("model.merges", "expected an array");
    cfg.merges.reserve(merges->size());
    for (std::size_t i = 0; i < merges->size(); ++i) {
      const json& m = (*merges)[i];
      if (m.is_string()) {
        const std::string& s = m.get_ref<const std::string&>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          c.fail("model.merges[" + std::to_string(i) + "]", "expected \"a b\", got \"" + s + "\"");
        cfg.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        cfg.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        c.fail("model.merges[" + std::to_string(i) + "]", "expected \"a b\" or [\"a\", \"b\"]");
      }
    }
  }
  cfg.unk_token = opt_str(c, j, path, "unk_token");
  cfg.continuing_subword_prefix = opt_str(c, j, path, "continuing_subword_prefix");
  cfg.end_of_word_suffix = opt_str(c, j, path, "end_of_word_suffix");
  cfg.fuse_unk = get_bool(c, j, path, "fuse_unk", false);
  cfg.byte_fallback = get_bool(c, j, path, "byte_fallback", false);
  cfg.ignore_merges = get_bool(c, j, path, "ignore_merges", false);
  try {
    return std::make_unique<BpeModel>(std::move(cfg));
  } catch (const std::runtime_error& e) {
    c.fail("model.merges", e.what());
  }
}

// bos_token / eos_token: a string or {"content": ...}.
std::optional<std::string> special_name(const Ctx& c, const json& cfg, const char* key) {
  const json* v = find(cfg, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) return get_str(c, *v, key, "content");
  c.fail(key, "expected a string or {\"content\": ...}");
}

}  // namespace

std::shared_ptr<Tokenizer::Impl> load_tokenizer(const std::string& tokenizer_json, const std::string& config_json) {
  const Ctx c{tokenizer_json};
  const json root = read_json(tokenizer_json);
  if (!root.is_object()) c.fail("<root>", "expected an object");
  auto impl = std::make_shared<Tokenizer::Impl>();

  const json* model = find(root, "model");
  if (!model) c.fail("model", "missing");
  impl->model = make_model(c, *model);
  if (const json* n = find(root, "normalizer")) impl->normalizer = make_normalizer(c, *n, "normalizer");
  if (const json* p = find(root, "pre_tokenizer")) impl->pre_tokenizer = make_pre_tokenizer(c, *p, "pre_tokenizer");
  if (const json* d = find(root, "decoder")) impl->decoder = make_decoder(c, *d, "decoder");

  int32_t max_id = impl->model->max_id();
  if (const json* added = find(root, "added_tokens")) {
    if (!added->is_array()) c.fail("added_tokens", "expected an array");
    for (std::size_t i = 0; i < added->size(); ++i) {
      const json& a = (*added)[i];
      const std::string path = "added_tokens[" + std::to_string(i) + "]";
      AddedToken t;
      const int64_t id = get_int(c, a, path, "id", -1);
      if (id < 0 || id > INT32_MAX) c.fail(join(path, "id"), "missing or out of range");
      t.id = static_cast<int32_t>(id);
      t.content = get_str(c, a, path, "content");
      t.single_word = get_bool(c, a, path, "single_word", false);
      t.lstrip = get_bool(c, a, path, "lstrip", false);
      t.rstrip = get_bool(c, a, path, "rstrip", false);
      t.special = get_bool(c, a, path, "special", false);
      t.normalized = get_bool(c, a, path, "normalized", !t.special);
      impl->added.push_back(t);
      impl->added_by_content[t.content] = t.id;
      impl->added_by_id[t.id] = t.content;
      if (t.special) impl->special_contents.insert(t.content);
      max_id = std::max(max_id, t.id);
    }
  }
  std::vector<AddedToken> raw, norm;
  std::vector<std::string> raw_pat, norm_pat;
  for (const AddedToken& t : impl->added) {
    if (t.normalized) {
      std::string p = t.content;
      if (impl->normalizer) impl->normalizer->normalize(p);
      norm.push_back(t);
      norm_pat.push_back(p);
    } else {
      raw.push_back(t);
      raw_pat.push_back(t.content);
    }
  }
  impl->raw_matcher.build(raw, raw_pat);
  impl->normalized_matcher.build(norm, norm_pat);
  impl->vocab_size = max_id + 1;

  auto id_of = [&](const std::string& token) -> int32_t {
    auto it = impl->added_by_content.find(token);
    if (it != impl->added_by_content.end()) return it->second;
    return impl->model->token_to_id(token).value_or(-1);
  };
  if (const json* pp = find(root, "post_processor")) {
    std::vector<TemplatePart> single = make_processor(c, *pp, "post_processor");
    bool seen_seq = false;
    for (const TemplatePart& p : single) {
      if (p.is_sequence) {
        seen_seq = true;
      } else if (!p.ids.empty()) {
        auto& side = seen_seq ? impl->special_suffix : impl->special_prefix;
        side.insert(side.end(), p.ids.begin(), p.ids.end());
        if (!seen_seq) {
          impl->add_bos = true;
          if (!impl->bos) impl->bos = p.ids.back();
        } else {
          impl->add_eos = true;
          if (!impl->eos) impl->eos = p.ids.front();
        }
      }
    }
    impl->post_processor.emplace(std::move(single));
  }

  if (!config_json.empty()) {
    const Ctx cc{config_json};
    const json cfg = read_json(config_json);
    if (!cfg.is_object()) cc.fail("<root>", "expected an object");
    auto resolve = [&](const char* key) -> std::optional<int32_t> {
      auto name = special_name(cc, cfg, key);
      if (!name) return std::nullopt;
      const int32_t id = id_of(*name);
      if (id < 0) cc.fail(key, "token '" + *name + "' is not in " + tokenizer_json);
      return id;
    };
    if (auto b = resolve("bos_token")) impl->bos = b;
    if (auto e = resolve("eos_token")) impl->eos = e;
    if (find(cfg, "add_bos_token")) impl->config_add_bos = get_bool(cc, cfg, "", "add_bos_token", false);
    if (find(cfg, "add_eos_token")) impl->config_add_eos = get_bool(cc, cfg, "", "add_eos_token", false);
    if (impl->config_add_bos) impl->add_bos = *impl->config_add_bos;
    if (impl->config_add_eos) impl->add_eos = *impl->config_add_eos;
  }
  return impl;
}

}  // namespace qf::tok
