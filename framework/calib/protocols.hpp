#pragma once
// The sampling protocols of the reference implementations, on texts and token streams.
// docs/gptq.md#calibration (wikitext2 paper and optimum, c4), docs/awq.md#calibration (pile-val).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace qf::calib {

using Blocks = std::vector<std::vector<int32_t>>;

// GPTQ paper windows (IST datautils.py): random.seed(seed); num_samples times
// i = random.randint(0, T - seqlen - 1); block = ids[i : i + seqlen]. Needs T >= seqlen + 1;
// otherwise qf::Error "<what> has T tokens ...". offsets (optional) receives each i.
Blocks sample_windows(const std::vector<int32_t>& ids, int64_t num_samples, int64_t seqlen, int64_t seed,
                      const std::string& what, std::vector<int64_t>* offsets = nullptr);

// Rows of Hugging Face's wikitext-2-raw-v1 from a raw file (the dataset's loading script):
// universal newlines, one row per line *with* its trailing "\n"; a line that is only
// whitespace (Python str.strip() empty) becomes "".
std::vector<std::string> wikitext_rows(const std::string& raw);
// "\n\n".join(rows) (IST / AutoGPTQ example).
std::string join_rows(const std::vector<std::string>& rows, const std::string& sep);
// optimum: "".join(" \n" if s == "" else s for s in rows[:1000]).
std::string optimum_wikitext_text(const std::vector<std::string>& rows);

// AutoAWQ get_calib_dataset over documents in their (already shuffled) order: doc(i) gives the
// i-th text or false when there are no more. line = strip(text); ids = encode(line, specials);
// skip if len > seqlen; skip if empty; stop after num_samples accepted; concatenate; split into
// T // seqlen blocks (tail dropped).
struct AwqStats {
  int64_t docs_seen = 0;
  int64_t docs_used = 0;
  int64_t docs_too_long = 0;
  int64_t total_tokens = 0;
};
Blocks awq_documents(const std::function<bool(int64_t, std::string&)>& doc, const qf::tok::Tokenizer& tok,
                     int64_t num_samples, int64_t seqlen, AwqStats& stats);

// IST/optimum get_c4: num_samples times { repeat d = randint(0, n_docs - 1) until
// len(encode(doc(d))) >= seqlen; i = randint(0, len - seqlen - 1); window }. One deviation: a
// document of exactly seqlen tokens makes Python's randint(0, -1) raise; we take it whole (i = 0,
// no draw). qf::Error when every document has been seen to be too short, or after max_draws
// rejected documents in a row.
struct C4Stats {
  int64_t draws = 0;
};
Blocks c4_documents(int64_t n_docs, const std::function<std::string(int64_t)>& doc, const qf::tok::Tokenizer& tok,
                    int64_t num_samples, int64_t seqlen, int64_t seed, int64_t max_draws, C4Stats& stats);

}  // namespace qf::calib
