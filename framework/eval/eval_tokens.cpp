#include "eval/eval_tokens.hpp"

#include "common/error.hpp"

namespace qf::eval {
namespace {

std::string describe_ids(const tok::Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ", ") + t.id_to_token(id) + " (id " + std::to_string(id) + ")";
  return out;
}

// A tokenizer_config.json key that contradicts what the post-processor does.
void check_config_key(const tok::Tokenizer& t, const char* key, std::optional<bool> config,
                      const std::vector<int32_t>& added, const char* where, std::vector<std::string>& warnings) {
  if (!config || *config == !added.empty()) return;
  warnings.push_back(std::string("tokenizer_config.json sets ") + key + " = " + (*config ? "true" : "false") +
                     " but tokenizer.json's post-processor adds " +
                     (added.empty() ? std::string("nothing") : describe_ids(t, added)) + " " + where +
                     " the text: following tokenizer.json, as transformers 5's tokenizer(text) does (transformers 4's "
                     "Llama tokenizer followed the config key); --add-bos or --no-bos choose explicitly");
}

}  // namespace

EvalTokens tokenize_for_eval(const tok::Tokenizer& tokenizer, std::string_view text, SpecialTokens mode) {
  EvalTokens r;
  if (mode == SpecialTokens::Bos && !tokenizer.bos_id())
    throw Error(
        "--add-bos: the tokenizer defines no BOS token (no bos_token in tokenizer_config.json and no "
        "special token before the text in tokenizer.json's post-processor); drop --add-bos");
  r.ids = tokenizer.encode(text, /*add_special_tokens=*/false);
  switch (mode) {
    case SpecialTokens::Tokenizer: {
      tokenizer.add_special_tokens(r.ids);
      const auto& pre = tokenizer.special_prefix();
      const auto& post = tokenizer.special_suffix();
      if (pre.empty() && post.empty()) {
        r.special = "none (the tokenizer's post-processor adds none, as tokenizer(text); --add-bos prepends a BOS)";
      } else {
        r.special = pre.empty() ? std::string() : describe_ids(tokenizer, pre) + " at the start";
        if (!post.empty())
          r.special += (r.special.empty() ? "" : " and ") + describe_ids(tokenizer, post) + " at the end";
        r.special += ", added by the tokenizer's post-processor as tokenizer(text) does (--no-bos for none)";
      }
      check_config_key(tokenizer, "add_bos_token", tokenizer.config_add_bos_token(), pre, "before", r.warnings);
      check_config_key(tokenizer, "add_eos_token", tokenizer.config_add_eos_token(), post, "after", r.warnings);
      break;
    }
    case SpecialTokens::None:
      r.special = "none (--no-bos)";
      break;
    case SpecialTokens::Bos:
      r.ids.insert(r.ids.begin(), *tokenizer.bos_id());
      r.special = "one BOS " + describe_ids(tokenizer, {*tokenizer.bos_id()}) + " at the start (--add-bos)";
      break;
  }
  return r;
}

}  // namespace qf::eval
