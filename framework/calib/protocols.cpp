#include "calib/protocols.hpp"

#include "calib/python_random.hpp"
#include "calib/text_input.hpp"
#include "common/error.hpp"

namespace qf::calib {

Blocks sample_windows(const std::vector<int32_t>& ids, int64_t num_samples, int64_t seqlen, int64_t seed,
                      const std::string& what, std::vector<int64_t>* offsets) {
  const auto total = static_cast<int64_t>(ids.size());
  if (total < seqlen + 1) {
    throw Error(what + " has " + std::to_string(total) + " tokens; random " + std::to_string(seqlen) +
                "-token windows need at least " + std::to_string(seqlen + 1) +
                " (offsets are drawn from [0, tokens - seqlen - 1]). Use a longer text or a smaller --seqlen.");
  }
  PythonRandom rng(seed);
  Blocks blocks;
  blocks.reserve(static_cast<size_t>(num_samples));
  for (int64_t s = 0; s < num_samples; ++s) {
    const int64_t i = rng.randint(0, total - seqlen - 1);
    if (offsets) offsets->push_back(i);
    blocks.emplace_back(ids.begin() + i, ids.begin() + i + seqlen);
  }
  return blocks;
}

std::vector<std::string> wikitext_rows(const std::string& raw) {
  const std::string text = universal_newlines(raw);
  std::vector<std::string> rows;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string row = text.substr(start, end - start);
    if (py_strip(row).empty()) row.clear();
    rows.push_back(std::move(row));
    start = end;
  }
  return rows;
}

std::string join_rows(const std::vector<std::string>& rows, const std::string& sep) {
  size_t size = 0;
  for (const auto& r : rows) size += r.size() + sep.size();
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += sep;
    out += rows[i];
  }
  return out;
}

std::string optimum_wikitext_text(const std::vector<std::string>& rows) {
  std::string out;
  const size_t n = rows.size() < 1000 ? rows.size() : 1000;
  for (size_t i = 0; i < n; ++i) out += rows[i].empty() ? std::string(" \n") : rows[i];
  return out;
}

Blocks awq_documents(const std::function<bool(int64_t, std::string&)>& doc, const qf::tok::Tokenizer& tok,
                     int64_t num_samples, int64_t seqlen, AwqStats& stats) {
  std::vector<int32_t> cat;
  std::string text;
  for (int64_t i = 0; stats.docs_used < num_samples; ++i) {
    if (!doc(i, text)) break;
    ++stats.docs_seen;
    const std::vector<int32_t> ids = tok.encode(py_strip(text), /*add_special_tokens=*/true);
    if (static_cast<int64_t>(ids.size()) > seqlen) {
      ++stats.docs_too_long;
      continue;
    }
    if (ids.empty()) continue;
    cat.insert(cat.end(), ids.begin(), ids.end());
    ++stats.docs_used;
  }
  stats.total_tokens = static_cast<int64_t>(cat.size());
  const int64_t n_split = stats.total_tokens / seqlen;
  Blocks blocks;
  blocks.reserve(static_cast<size_t>(n_split));
  for (int64_t b = 0; b < n_split; ++b) {
    blocks.emplace_back(cat.begin() + b * seqlen, cat.begin() + (b + 1) * seqlen);
  }
  return blocks;
}

Blocks c4_documents(int64_t n_docs, const std::function<std::string(int64_t)>& doc, const qf::tok::Tokenizer& tok,
                    int64_t num_samples, int64_t seqlen, int64_t seed, int64_t max_draws, C4Stats& stats) {
  if (n_docs <= 0) throw Error("no documents to draw from");
  PythonRandom rng(seed);
  Blocks blocks;
  // Documents already seen to be too short: skips re-tokenizing them, and tells when none can qualify.
  std::vector<bool> short_doc(static_cast<size_t>(n_docs), false);
  int64_t n_short = 0;
  for (int64_t s = 0; s < num_samples; ++s) {
    std::vector<int32_t> ids;
    int64_t rejected = 0;
    for (;;) {
      const int64_t d = rng.randint(0, n_docs - 1);
      ++stats.draws;
      if (!short_doc[static_cast<size_t>(d)]) {
        ids = tok.encode(doc(d), /*add_special_tokens=*/true);
        if (static_cast<int64_t>(ids.size()) >= seqlen) break;
        short_doc[static_cast<size_t>(d)] = true;
        ++n_short;
      }
      if (n_short == n_docs) {
        throw Error("none of the " + std::to_string(n_docs) + " documents has " + std::to_string(seqlen) +
                    " tokens or more; use a smaller --seqlen");
      }
      if (++rejected >= max_draws) {
        throw Error("drew " + std::to_string(rejected) + " documents in a row with fewer than " +
                    std::to_string(seqlen) + " tokens (sample " + std::to_string(s) +
                    "); too few documents are long enough for this --seqlen");
      }
    }
    const auto len = static_cast<int64_t>(ids.size());
    const int64_t i = len == seqlen ? 0 : rng.randint(0, len - seqlen - 1);
    blocks.emplace_back(ids.begin() + i, ids.begin() + i + seqlen);
  }
  return blocks;
}

}  // namespace qf::calib
