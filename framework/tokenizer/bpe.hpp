#pragma once
// The BPE model: vocab, merge ranks, lowest-rank-first merging with a per-word cache,
// byte_fallback (<0xNN>), unk (optionally fused), ignore_merges, subword prefix / word suffix.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qf::tok {

struct BpeConfig {
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel {
 public:
  // Throws std::runtime_error naming the offending merge / token.
  explicit BpeModel(BpeConfig cfg);

  // Appends the ids of one pre-tokenized word.
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;
  int32_t max_id() const { return max_id_; }

 private:
  struct StrHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct MergeInfo {
    uint32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
  }
  const MergeInfo* find_merge(int32_t a, int32_t b) const;
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;
  void tokenize_cached(std::string_view word, std::vector<int32_t>& out) const;

  BpeConfig cfg_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<int32_t, std::string> vocab_r_;
  std::unordered_map<uint64_t, MergeInfo> merges_;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];  // id of "<0xNN>" or -1
  int32_t max_id_ = -1;
  // True when no merge joins a symbol ending in a non-"▁" character to one starting with "▁" (and "▁"
  // is in the vocab): then a long word can be cut before every "▁" that follows another character and
  // each part merged alone with exactly the same result (SentencePiece-style inputs with no pre-split).
  bool metaspace_cuttable_ = false;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace qf::tok
