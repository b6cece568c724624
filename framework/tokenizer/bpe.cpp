#include "tokenizer/bpe.hpp"

#include <cstdio>
#include <queue>
#include <stdexcept>

#include "tokenizer/utf8.hpp"

namespace qf::tok {

namespace {
constexpr std::size_t kMaxCachedWordBytes = 256;
constexpr std::size_t kMaxCacheEntries = 1 << 18;
const std::string kMetaspace = "\xE2\x96\x81";  // U+2581

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
}  // namespace

BpeModel::BpeModel(BpeConfig cfg) : cfg_(std::move(cfg)) {
  vocab_.reserve(cfg_.vocab.size() * 2);
  for (auto& [tok, id] : cfg_.vocab) {
    vocab_[tok] = id;
    vocab_r_[id] = tok;
    if (id > max_id_) max_id_ = id;
  }
  cfg_.vocab.clear();
  cfg_.vocab.shrink_to_fit();
  const std::size_t prefix_len = cfg_.continuing_subword_prefix ? cfg_.continuing_subword_prefix->size() : 0;
  merges_.reserve(cfg_.merges.size() * 2);
  metaspace_cuttable_ = vocab_.count(kMetaspace) > 0 && !cfg_.continuing_subword_prefix && !cfg_.end_of_word_suffix;
  uint32_t rank = 0;
  for (const auto& [a, b] : cfg_.merges) {
    if (starts_with(b, kMetaspace) && !ends_with(a, kMetaspace)) metaspace_cuttable_ = false;
    auto ia = vocab_.find(a);
    if (ia == vocab_.end()) throw std::runtime_error("merge #" + std::to_string(rank) + " uses '" + a + "' which is not in the vocab");
    auto ib = vocab_.find(b);
    if (ib == vocab_.end()) throw std::runtime_error("merge #" + std::to_string(rank) + " uses '" + b + "' which is not in the vocab");
    const std::string merged = a + (b.size() >= prefix_len ? b.substr(prefix_len) : b);
    auto im = vocab_.find(merged);
    if (im == vocab_.end())
      throw std::runtime_error("merge #" + std::to_string(rank) + " gives '" + merged + "' which is not in the vocab");
    merges_[pair_key(ia->second, ib->second)] = {rank, im->second};  // a later duplicate wins, as in tokenizers
    ++rank;
  }
  cfg_.merges.clear();
  cfg_.merges.shrink_to_fit();
  cache_.reserve(1 << 16);
  if (cfg_.unk_token) {
    auto it = vocab_.find(*cfg_.unk_token);
    if (it != vocab_.end()) unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = vocab_.find(name);
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  auto it = vocab_r_.find(id);
  return it == vocab_r_.end() ? nullptr : &it->second;
}

const BpeModel::MergeInfo* BpeModel::find_merge(int32_t a, int32_t b) const {
  auto it = merges_.find(pair_key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (cfg_.ignore_merges) {
    auto it = vocab_.find(std::string(word));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() > kMaxCachedWordBytes && metaspace_cuttable_) {
    // Cut before each "▁" that follows another character; see metaspace_cuttable_.
    std::size_t begin = 0;
    for (std::size_t p = word.find(kMetaspace, 1); p != std::string_view::npos; p = word.find(kMetaspace, p + 1)) {
      if (p >= kMetaspace.size() && word.compare(p - kMetaspace.size(), kMetaspace.size(), kMetaspace) == 0)
        continue;  // inside a run of "▁"
      tokenize_cached(word.substr(begin, p - begin), out);
      begin = p;
    }
    tokenize_cached(word.substr(begin), out);
    return;
  }
  tokenize_cached(word, out);
}

void BpeModel::tokenize_cached(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  std::string key;
  if (cacheable) {
    key.assign(word);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::move(key), std::move(ids));
  }
}

void BpeModel::merge_word(std::string_view w, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    bool alive;
  };
  std::vector<Symbol> sym;
  sym.reserve(w.size());
  auto add = [&](int32_t id) {
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back({id, n - 1, -1, true});
    if (n > 0) sym[n - 1].next = n;
  };
  int32_t unk = -1;  // pending (possibly fused) unk, or -1
  std::string s;
  for (std::size_t i = 0; i < w.size();) {
    const std::size_t len = std::min(utf8::char_len(static_cast<unsigned char>(w[i])), w.size() - i);
    const bool is_first = i == 0, is_last = i + len >= w.size();
    s.clear();
    if (!is_first && cfg_.continuing_subword_prefix) s += *cfg_.continuing_subword_prefix;
    s.append(w.substr(i, len));
    if (is_last && cfg_.end_of_word_suffix) s += *cfg_.end_of_word_suffix;
    i += len;
    auto it = vocab_.find(s);
    if (it != vocab_.end()) {
      if (unk >= 0) {
        add(unk);
        unk = -1;
      }
      add(it->second);
      continue;
    }
    if (cfg_.byte_fallback) {
      bool all = true;
      for (unsigned char c : s) all = all && byte_ids_[c] >= 0;
      if (all) {
        // tokenizers adds the byte tokens without flushing a pending unk first.
        for (unsigned char c : s) add(byte_ids_[c]);
        continue;
      }
    }
    if (cfg_.unk_token) {
      if (!unk_id_) throw std::runtime_error("unk_token '" + *cfg_.unk_token + "' is not in the vocab");
      if (unk >= 0 && !cfg_.fuse_unk) add(unk);
      unk = *unk_id_;
    }
  }
  if (unk >= 0) add(unk);

  struct Item {
    uint32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator<(const Item& o) const {  // max-heap: lowest rank, then leftmost, on top
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Item> queue;
  for (std::size_t k = 0; k + 1 < sym.size(); ++k)
    if (const MergeInfo* m = find_merge(sym[k].id, sym[k + 1].id))
      queue.push({m->rank, static_cast<int32_t>(k), m->new_id});
  while (!queue.empty()) {
    const Item top = queue.top();
    queue.pop();
    Symbol& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    const int32_t next_pos = cur.next;
    const MergeInfo* m = find_merge(cur.id, sym[next_pos].id);
    if (!m || m->new_id != top.new_id) continue;  // stale entry
    cur.id = top.new_id;
    Symbol& right = sym[next_pos];
    right.alive = false;
    cur.next = right.next;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    if (cur.prev >= 0)
      if (const MergeInfo* mp = find_merge(sym[cur.prev].id, cur.id)) queue.push({mp->rank, cur.prev, mp->new_id});
    if (cur.next >= 0)
      if (const MergeInfo* mn = find_merge(cur.id, sym[cur.next].id)) queue.push({mn->rank, top.pos, mn->new_id});
  }
  for (const Symbol& x : sym)
    if (x.alive) out.push_back(x.id);
}

}  // namespace qf::tok
