#include "gguf_special_tokens.hpp"

#include <algorithm>

namespace qf::gguf {

std::string config_token(const nlohmann::json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return {};
  const nlohmann::json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return v.value("content", "");
  return {};
}

namespace {

// The id of a template entry's SpecialToken, or "" for a Sequence.
std::string special_id(const nlohmann::json& entry) {
  if (!entry.is_object() || !entry.contains("SpecialToken")) return {};
  return entry["SpecialToken"].value("id", "");
}

std::string sequence_id(const nlohmann::json& entry) {
  if (!entry.is_object() || !entry.contains("Sequence")) return {};
  return entry["Sequence"].value("id", "");
}

// The first element of a RobertaProcessing's ["token", id] pair, or `fallback`.
std::string processor_token(const nlohmann::json& p, const char* key, const std::string& fallback) {
  if (p.contains(key) && p[key].is_array() && !p[key].empty() && p[key][0].is_string()) return p[key][0];
  return fallback;
}

// The special-token texts as tokenizer_config.json names them, amended by what the post-processor
// implies; `kinds` grows by "eot"/"eom" when the EOS is taken over by a template's trailing token.
struct Resolution {
  bool have_config = false;
  std::map<std::string, std::string> text;  // kind -> token text
  std::vector<std::string> kinds{"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  std::map<std::string, bool> add;

  bool has_kind(const std::string& k) const { return std::find(kinds.begin(), kinds.end(), k) != kinds.end(); }
};

void read_template(const nlohmann::json& p, Resolution& r) {
  std::string& bos = r.text["bos"];
  std::string& cls = r.text["cls"];
  std::string& eos = r.text["eos"];
  std::string& sep = r.text["sep"];
  const nlohmann::json single = p.value("single", nlohmann::json::array());
  std::string first, last;
  if (single.is_array() && single.size() > 1) {
    first = special_id(single.front());
    if (!first.empty()) {
      if (!r.have_config) {
        bos = first;
      } else if (first != bos && first != cls) {  // fills an unset bos/cls slot
        if (bos.empty()) bos = first;
        if (cls.empty()) cls = first;
      }
      r.add["bos"] = first == bos || first == cls;
    }
    last = special_id(single.back());
    if (!last.empty()) {
      if (!r.have_config) {
        eos = last;
      } else if (last != eos) {
        // The trailing token ends every text, so it is the EOS; the configured one stays reachable as the
        // end-of-turn token.
        const char* keep = !r.has_kind("eot") ? "eot" : !r.has_kind("eom") ? "eom" : nullptr;
        if (keep) {
          r.kinds.push_back(keep);
          r.text[keep] = eos;
        }
        eos = last;
      }
      r.add["eos"] = last == eos;
    }
  }
  const nlohmann::json pair = p.value("pair", nlohmann::json::array());
  if (!pair.is_array() || pair.empty()) return;
  const size_t start = (!first.empty() && special_id(pair.front()) == first) ? 1 : 0;
  const size_t stop = pair.size() - ((!last.empty() && special_id(pair.back()) == last) ? 1 : 0);
  if (start >= stop) return;
  const std::vector<nlohmann::json> inner(pair.begin() + static_cast<std::ptrdiff_t>(start),
                                          pair.begin() + static_cast<std::ptrdiff_t>(stop));
  if (sequence_id(inner.front()) != "A" || sequence_id(inner.back()) != "B" || inner.size() < 3) return;
  // A [sep] [eos] B: one or two special tokens between the two sequences.
  bool add_sep = false;
  const std::string middle = special_id(inner[1]);
  if (!middle.empty() && (middle == sep || middle == eos) && last.empty()) add_sep = true;
  if (inner.size() == 4) {
    const std::string second = special_id(inner[2]);
    if (!second.empty() && (second == sep || second == eos)) add_sep = true;
  }
  r.add["sep"] = add_sep;
  if (add_sep && sep.empty() && r.have_config) sep = eos;
}

void read_post_processor(const nlohmann::json& tok, Resolution& r) {
  const nlohmann::json post = tok.value("post_processor", nlohmann::json());
  std::vector<nlohmann::json> processors;
  if (post.is_object() && post.contains("processors") && post["processors"].is_array())
    processors.assign(post["processors"].begin(), post["processors"].end());
  else if (post.is_object())
    processors.push_back(post);
  for (const auto& p : processors) {
    const std::string type = p.value("type", "");
    if (type == "RobertaProcessing") {
      r.add["bos"] = r.add["eos"] = r.add["sep"] = true;
      if (r.have_config && r.text["cls"].empty()) r.text["cls"] = processor_token(p, "cls", r.text["bos"]);
      if (r.have_config && r.text["sep"].empty()) r.text["sep"] = processor_token(p, "sep", r.text["eos"]);
    } else if (type == "TemplateProcessing") {
      read_template(p, r);
    }
  }
}

// GGUF has keys for these kinds only (no "cls").
bool has_gguf_key(const std::string& kind) { return kind != "cls"; }

}  // namespace

SpecialTokens special_tokens(const nlohmann::json& tok, const nlohmann::json& cfg, const nlohmann::json& config,
                             int64_t vocab_size) {
  Resolution r;
  r.have_config = cfg.is_object() && !cfg.empty();
  for (const char* kind : {"bos", "cls", "eos", "sep"}) r.text[kind] = config_token(cfg, (std::string(kind) + "_token").c_str());
  if (r.have_config && r.text["bos"].empty()) r.text["bos"] = r.text["cls"];
  if (r.have_config && r.text["eos"].empty()) r.text["eos"] = r.text["sep"];
  read_post_processor(tok, r);

  SpecialTokens out;
  const auto set = [&](const std::string& kind, const nlohmann::json& id) {
    if (!id.is_number_integer() || !has_gguf_key(kind)) return;
    const int64_t v = id.get<int64_t>();
    if (v < 0 || v >= vocab_size) return;
    for (const auto& [k, existing] : out.ids)
      if (k == kind) return;  // the first source that names it wins
    out.ids.emplace_back(kind, static_cast<uint32_t>(v));
  };
  if (r.have_config) {
    for (const std::string& kind : r.kinds) {
      const std::string add_key = "add_" + kind + "_token";
      if (cfg.contains(add_key) && cfg[add_key].is_boolean()) r.add[kind] = cfg[add_key].get<bool>();
      // Texts the post-processor did not touch come from the config as it stands (string or object).
      std::string text = r.text.count(kind) ? r.text[kind] : config_token(cfg, (kind + "_token").c_str());
      if (text.empty()) continue;
      for (const auto& a : tok.value("added_tokens", nlohmann::json::array()))
        if (a.value("content", "") == text) {
          set(kind, a.value("id", nlohmann::json()));
          break;
        }
    }
  }
  for (const std::string& kind : r.kinds) {
    const std::string key = kind + "_token_id";
    if (config.contains(key) && !config[key].is_null())
      set(kind, config[key]);
    else if (config.contains("text_config") && config["text_config"].contains(key))
      set(kind, config["text_config"][key]);
  }
  for (const char* kind : {"bos", "eos", "sep"})
    if (r.add.count(kind)) out.add[kind] = r.add[kind];
  return out;
}

}  // namespace qf::gguf
