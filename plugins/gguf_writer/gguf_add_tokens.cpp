#include "gguf_add_tokens.hpp"

#include <vector>

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

}  // namespace

std::map<std::string, bool> add_special_tokens(const nlohmann::json& tok, const nlohmann::json& cfg) {
  std::map<std::string, bool> add;
  const bool have_config = cfg.is_object() && !cfg.empty();
  std::string bos = config_token(cfg, "bos_token"), eos = config_token(cfg, "eos_token");
  std::string cls = config_token(cfg, "cls_token");
  const std::string sep = config_token(cfg, "sep_token");
  if (bos.empty()) bos = cls;
  if (eos.empty()) eos = sep;

  const nlohmann::json post = tok.value("post_processor", nlohmann::json());
  std::vector<nlohmann::json> processors;
  if (post.is_object() && post.contains("processors") && post["processors"].is_array())
    processors.assign(post["processors"].begin(), post["processors"].end());
  else if (post.is_object())
    processors.push_back(post);

  for (const auto& p : processors) {
    const std::string type = p.value("type", "");
    if (type == "RobertaProcessing") {
      add["bos"] = add["eos"] = add["sep"] = true;
      continue;
    }
    if (type != "TemplateProcessing") continue;
    const nlohmann::json single = p.value("single", nlohmann::json::array());
    std::string first, last;
    if (single.is_array() && single.size() > 1) {
      first = special_id(single.front());
      if (!first.empty()) {
        // A leading special token the config does not name fills its empty bos/cls slot.
        if (!have_config) {
          bos = first;
        } else if (first != bos && first != cls) {
          if (bos.empty()) bos = first;
          if (cls.empty()) cls = first;
        }
        add["bos"] = first == bos || first == cls;
      }
      last = special_id(single.back());
      if (!last.empty()) {
        // The converter makes a trailing special token the EOS (the configured one becoming EOT), so
        // it is always added.
        eos = last;
        add["eos"] = true;
      }
    }
    nlohmann::json pair = p.value("pair", nlohmann::json::array());
    if (!pair.is_array() || pair.empty()) continue;
    size_t start = (!first.empty() && special_id(pair.front()) == first) ? 1 : 0;
    size_t stop = pair.size() - ((!last.empty() && special_id(pair.back()) == last) ? 1 : 0);
    if (start >= stop) continue;
    const std::vector<nlohmann::json> inner(pair.begin() + static_cast<std::ptrdiff_t>(start),
                                            pair.begin() + static_cast<std::ptrdiff_t>(stop));
    if (sequence_id(inner.front()) != "A" || sequence_id(inner.back()) != "B" || inner.size() < 3) continue;
    // A [sep] [eos] B: one or two special tokens between the two sequences.
    bool add_sep = false;
    const std::string middle = special_id(inner[1]);
    if (!middle.empty() && (middle == sep || middle == eos) && last.empty()) add_sep = true;
    if (inner.size() == 4) {
      const std::string second = special_id(inner[2]);
      if (!second.empty() && (second == sep || second == eos)) add_sep = true;
    }
    add["sep"] = add_sep;
  }
  for (const char* kind : {"bos", "eos", "sep"}) {
    const std::string key = std::string("add_") + kind + "_token";
    if (cfg.is_object() && cfg.contains(key) && cfg[key].is_boolean()) add[kind] = cfg[key].get<bool>();
  }
  return add;
}

}  // namespace qf::gguf
