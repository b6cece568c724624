// Dataset resolution and protocol dispatch. Protocols per dataset ("auto" = the first):
//   wikitext2, wikitext2-valid
//                        gptq (IST datautils: "\n\n".join(rows), tokenize once, random windows) | optimum
//   bundled, .txt, .raw  gptq (whole text, tokenize once, random windows)
//   .jsonl & co.         gptq ("\n\n".join of the field, as wikitext2) | awq | c4
//   pileval              awq (AutoAWQ get_calib_dataset) | c4
//   c4                   c4 (IST/optimum get_c4; "gptq"/"optimum" name the same code) | awq
// awq shuffles records like HF datasets' Dataset.shuffle(seed): the numpy default_rng(seed)
// permutation. AutoAWQ hard-codes seed 42, and so does the awq recipe.
#include "calib/calibration.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "calib/numpy_random.hpp"
#include "calib/protocols.hpp"
#include "calib/text_input.hpp"
#include "common/error.hpp"

namespace qf::calib {
namespace fs = std::filesystem;

namespace {

enum class Kind { Wikitext2, Pileval, C4, Bundled, TextFile, JsonFile };

constexpr int64_t kAutoAwqShuffleSeed = 42;  // what AutoAWQ's get_calib_dataset passes to shuffle()
constexpr int64_t kC4MaxRejectedDraws = 100000;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string str(int64_t v) { return std::to_string(v); }

bool is_json_lines_name(const std::string& name) {
  for (const char* ext : {".jsonl", ".jsonl.zst", ".jsonl.gz", ".json", ".json.gz", ".json.zst"}) {
    if (ends_with(name, ext)) return true;
  }
  return false;
}

// "auto" -> default; otherwise must be one of allowed.
std::string resolve_protocol(const std::string& requested, const std::vector<std::string>& allowed,
                             const std::string& what) {
  const std::string p = lower(requested);
  if (p.empty() || p == "auto") return allowed.front();
  if (std::find(allowed.begin(), allowed.end(), p) != allowed.end()) return p;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw Error("calibration protocol \"" + requested + "\" does not apply to " + what + " (use auto or one of: " +
              list + ")");
}


std::string blocks_summary(const Blocks& blocks, int64_t seqlen) {
  return str(static_cast<int64_t>(blocks.size())) + " x " + str(seqlen) + " tokens";
}

// Reads records of a JSON-lines file lazily in the order of a permutation: a pass over the file
// collects the texts of the next window of permuted indices (windows grow 4x), so memory stays
// bounded for large files such as The Pile's val.jsonl.zst.
class PermutedRecords {
 public:
  PermutedRecords(fs::path path, std::string field, std::vector<int64_t> perm, int64_t first_window)
      : path_(std::move(path)), field_(std::move(field)), perm_(std::move(perm)), window_(first_window) {}

  bool get(int64_t i, std::string& out) {
    if (i >= static_cast<int64_t>(perm_.size())) return false;
    if (i >= loaded_end_) load(i);
    out = texts_.at(perm_[static_cast<size_t>(i)]);
    return true;
  }

 private:
  void load(int64_t begin) {
    const int64_t end = std::min<int64_t>(static_cast<int64_t>(perm_.size()), begin + window_);
    window_ *= 4;
    texts_.clear();
    std::set<int64_t> wanted(perm_.begin() + begin, perm_.begin() + end);
    const int64_t last = *wanted.rbegin();
    for_each_record_line(path_, [&](int64_t index, std::string_view line) {
      if (wanted.count(index)) texts_.emplace(index, record_text(line, field_, path_, index));
      return index < last;
    });
    QF_ASSERT(static_cast<int64_t>(texts_.size()) == end - begin, "record count changed while reading");
    loaded_end_ = end;
  }

  fs::path path_;
  std::string field_;
  std::vector<int64_t> perm_;
  int64_t window_;
  int64_t loaded_end_ = 0;
  std::map<int64_t, std::string> texts_;
};

CalibrationSet run_awq(const fs::path& file, const std::string& name, const CalibrationSpec& spec,
                       const qf::tok::Tokenizer& tok) {
  const int64_t n = count_records(file);
  if (n == 0) throw Error(file.string() + " has no records");
  const int64_t shuffle_seed = spec.seed;
  PermutedRecords records(file, spec.text_field,
                          numpy_permutation(static_cast<uint64_t>(shuffle_seed), n),
                          std::max<int64_t>(1024, 8 * spec.num_samples));
  AwqStats stats;
  Blocks blocks = awq_documents([&](int64_t i, std::string& out) { return records.get(i, out); }, tok,
                                spec.num_samples, spec.seqlen, stats);
  if (blocks.empty()) {
    throw Error(name + " from " + file.string() + ": the " + str(stats.docs_used) + " documents of at most " +
                str(spec.seqlen) + " tokens (of " + str(stats.docs_seen) + " read, " + str(stats.docs_too_long) +
                " longer skipped) have " + str(stats.total_tokens) + " tokens in all, less than one " +
                str(spec.seqlen) + "-token block");
  }
  CalibrationSet set;
  set.protocol = "awq";
  set.source = file;
  set.description =
      name + " (AutoAWQ protocol) from " + file.string() + ": " + str(n) +
      " records shuffled with numpy default_rng(" + str(shuffle_seed) + ").permutation (HF datasets shuffle order" +
      (spec.seed == kAutoAwqShuffleSeed ? ", as AutoAWQ's shuffle(seed=42)" : "; AutoAWQ uses seed 42") +
      "); field \"" + spec.text_field + "\" stripped, tokenized with special tokens; " + str(stats.docs_used) +
      " documents of at most " + str(spec.seqlen) + " tokens taken (" + str(stats.docs_too_long) +
      " longer skipped" +
      (stats.docs_used < spec.num_samples ? "; fewer than the " + str(spec.num_samples) + " requested: file exhausted"
                                          : std::string()) +
      "), " + str(stats.total_tokens) + " tokens concatenated and split: " + blocks_summary(blocks, spec.seqlen) +
      " (tail of " + str(stats.total_tokens % spec.seqlen) + " dropped)";
  set.blocks = std::move(blocks);
  return set;
}

CalibrationSet run_c4(const fs::path& file, const std::string& name, const CalibrationSpec& spec,
                      const qf::tok::Tokenizer& tok) {
  // Random access to every record: keep the raw lines in one buffer, parse a record when drawn.
  std::string arena;
  std::vector<size_t> offsets{0};
  for_each_record_line(file, [&](int64_t, std::string_view line) {
    arena.append(line);
    offsets.push_back(arena.size());
    return true;
  });
  const auto n = static_cast<int64_t>(offsets.size()) - 1;
  if (n == 0) throw Error(file.string() + " has no records");
  auto doc = [&](int64_t d) {
    const auto i = static_cast<size_t>(d);
    return record_text(std::string_view(arena).substr(offsets[i], offsets[i + 1] - offsets[i]), spec.text_field,
                       file, d);
  };
  C4Stats stats;
  Blocks blocks;
  try {
    blocks = c4_documents(n, doc, tok, spec.num_samples, spec.seqlen, spec.seed, kC4MaxRejectedDraws, stats);
  } catch (const Error& e) {
    rethrow_with_context(e, name + " from " + file.string() + " (" + str(n) + " records): ");
  }
  CalibrationSet set;
  set.protocol = "c4";
  set.source = file;
  set.description = name + " (GPTQ paper / optimum C4 protocol: random documents of >= seqlen tokens, one random " +
                    "window each, Python random.seed(" + str(spec.seed) + ")) from " + file.string() + ", " + str(n) +
                    " records, " + str(stats.draws) + " documents drawn: " + blocks_summary(blocks, spec.seqlen) +
                    ", seed " + str(spec.seed);
  set.blocks = std::move(blocks);
  return set;
}

CalibrationSet run_windows(const std::string& text, const fs::path& file, const std::string& label,
                           const std::string& text_how, const CalibrationSpec& spec, const qf::tok::Tokenizer& tok) {
  const std::vector<int32_t> ids = tok.encode(text, /*add_special_tokens=*/true);
  CalibrationSet set;
  set.protocol = "gptq";
  set.source = file;
  set.blocks = sample_windows(ids, spec.num_samples, spec.seqlen, spec.seed, label + " from " + file.string());
  set.description = label + " from " + file.string() + " (" + text_how + "; " + str(static_cast<int64_t>(ids.size())) +
                    " tokens, random windows with Python random.seed(" + str(spec.seed) +
                    ")): " + blocks_summary(set.blocks, spec.seqlen) + ", seed " + str(spec.seed);
  return set;
}

CalibrationSet run_wikitext2(const fs::path& file, const std::string& split_note, const CalibrationSpec& spec,
                             const qf::tok::Tokenizer& tok) {
  const std::string protocol = resolve_protocol(spec.protocol, {"gptq", "optimum"}, "wikitext2");
  const std::vector<std::string> rows = wikitext_rows(read_all(file));
  const std::string rows_note = str(static_cast<int64_t>(rows.size())) +
                                " rows = the file's lines with their newline, blank lines as \"\" (HF wikitext rows)";
  if (protocol == "gptq") {
    CalibrationSet set = run_windows(join_rows(rows, "\n\n"), file, "wikitext2 (GPTQ paper protocol)",
                                     split_note + "; " + rows_note + ", \"\\n\\n\".join(rows), tokenized once", spec, tok);
    return set;
  }
  CalibrationSet set =
      run_windows(optimum_wikitext_text(rows), file, "wikitext2 (optimum protocol)",
                  split_note + "; " + rows_note + ", first 1000 rows joined with \"\", empty rows as \" \\n\"", spec, tok);
  set.protocol = "optimum";
  return set;
}

CalibrationSet run_json_gptq(const fs::path& file, const CalibrationSpec& spec, const qf::tok::Tokenizer& tok) {
  std::vector<std::string> rows;
  for_each_record_line(file, [&](int64_t index, std::string_view line) {
    rows.push_back(record_text(line, spec.text_field, file, index));
    return true;
  });
  if (rows.empty()) throw Error(file.string() + " has no records");
  return run_windows(join_rows(rows, "\n\n"), file, "JSON lines text (GPTQ-style windows)",
                     str(static_cast<int64_t>(rows.size())) + " records, field \"" + spec.text_field +
                         "\" joined with \"\\n\\n\", tokenized once",
                     spec, tok);
}

}  // namespace

CalibrationSet load_calibration(const CalibrationSpec& spec, const qf::tok::Tokenizer& tok) {
  if (spec.num_samples < 1) throw Error("--num_samples must be at least 1 (got " + str(spec.num_samples) + ")");
  if (spec.seqlen < 1) throw Error("--seqlen must be at least 1 (got " + str(spec.seqlen) + ")");
  if (spec.seed < 0) throw Error("--seed must be non-negative (got " + str(spec.seed) + ")");
  if (spec.dataset.empty()) throw Error("no calibration dataset given");

  const std::string name = lower(spec.dataset);
  const bool named = name == "wikitext2" || name == "wikitext" || name == "wikitext2-valid" || name == "pileval" ||
                     name == "c4" || name == "bundled";
  if (named) {
    const std::vector<fs::path> dirs = data_search_dirs(spec.dataset_path, spec.extra_search_dirs);
    std::vector<fs::path> looked;
    if (name == "wikitext2" || name == "wikitext") {
      // The train split only, as the reference: the validation split is a different dataset name, so
      // that using it is always a visible choice (the user's, or a recipe's fallback with a warning).
      const std::vector<std::string> names{"wiki.train.raw", "wikitext-2-raw/wiki.train.raw"};
      const fs::path file = find_in_dirs(dirs, names, looked);
      if (file.empty()) {
        throw_dataset_not_found(
            "calibration", spec.dataset, dirs, names, looked,
            "(WikiText-2's validation split, bundled with QuantForge, is --dataset wikitext2-valid.)");
      }
      return run_wikitext2(file, "train split, as the reference", spec, tok);
    }
    if (name == "wikitext2-valid") {
      const std::vector<std::string> names{"wikitext-2-raw/wiki.valid.raw", "wiki.valid.raw"};
      const fs::path file = find_in_dirs(dirs, names, looked);
      if (file.empty()) throw_dataset_not_found("calibration", spec.dataset, dirs, names, looked);
      return run_wikitext2(file, "validation split; the reference calibrates on the train split", spec, tok);
    }
    if (name == "bundled") {
      const std::vector<std::string> names{"calibration/public-domain.txt", "public-domain.txt"};
      const fs::path file = find_in_dirs(dirs, names, looked);
      if (file.empty()) throw_dataset_not_found("calibration", spec.dataset, dirs, names, looked);
      resolve_protocol(spec.protocol, {"gptq"}, "the bundled text");
      return run_windows(read_all(file), file, "bundled public-domain text (QuantForge data/calibration, excerpts of "
                                               "Austen, the King James Bible and the World English Bible)",
                         "whole text, tokenized once", spec, tok);
    }
    if (name == "pileval") {
      std::vector<std::string> patterns;
      for (const char* sub : {"", "pile-val-backup/"}) {
        for (const char* file : {"val.jsonl.zst", "val.jsonl", "pile-val*.jsonl.zst", "pile-val*.jsonl"}) {
          patterns.push_back(std::string(sub) + file);
        }
      }
      const fs::path file = find_glob_in_dirs(dirs, patterns, looked);
      if (file.empty()) throw_dataset_not_found("calibration", spec.dataset, dirs, patterns, looked);
      const std::string protocol = resolve_protocol(spec.protocol, {"awq", "c4"}, "pileval");
      return protocol == "awq" ? run_awq(file, "pileval", spec, tok) : run_c4(file, "pileval", spec, tok);
    }
    // c4
    std::vector<std::string> rels;
    for (const char* sub : {"", "c4/", "en/", "c4/en/"}) {
      for (const char* file : {"c4-train.00000-of-01024.json.gz", "c4-train.00000-of-01024.json"}) {
        rels.push_back(std::string(sub) + file);
      }
    }
    const fs::path file = find_in_dirs(dirs, rels, looked);
    if (file.empty()) throw_dataset_not_found("calibration", spec.dataset, dirs, rels, looked);
    const std::string protocol = resolve_protocol(spec.protocol, {"c4", "gptq", "optimum", "awq"}, "c4");
    return protocol == "awq" ? run_awq(file, "c4", spec, tok) : run_c4(file, "c4", spec, tok);
  }

  // A file path.
  const fs::path file(spec.dataset);
  const std::string fname = lower(file.filename().string());
  const bool wiki_raw = fname.rfind("wiki.", 0) == 0 && ends_with(fname, ".raw");
  const bool text = ends_with(fname, ".txt") || ends_with(fname, ".raw");
  const bool json = is_json_lines_name(fname);
  if (!wiki_raw && !text && !json) {
    throw Error("calibration dataset \"" + spec.dataset +
                "\" is neither a known name (wikitext2, wikitext2-valid, pileval, c4, bundled) nor a supported file "
                "(.txt, .raw, .jsonl, .jsonl.zst, .jsonl.gz, .json, .json.gz)");
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw DatasetNotFound("calibration file not found: " + spec.dataset +
                              " (named datasets are wikitext2, wikitext2-valid, pileval, c4, bundled)",
                          spec.dataset, {file.string()}, {});
  }
  if (wiki_raw) return run_wikitext2(file, "file given on the command line", spec, tok);
  if (text) {
    resolve_protocol(spec.protocol, {"gptq"}, "a text file");
    return run_windows(read_all(file), file, "text file (GPTQ-style windows)", "whole text, tokenized once", spec, tok);
  }
  const std::string protocol = resolve_protocol(spec.protocol, {"gptq", "awq", "c4"}, "a JSON lines file");
  if (protocol == "awq") return run_awq(file, "JSON lines file", spec, tok);
  if (protocol == "c4") return run_c4(file, "JSON lines file", spec, tok);
  return run_json_gptq(file, spec, tok);
}

}  // namespace qf::calib
