#pragma once
// The text a perplexity run reads, as one string (no joining, no newline translation): the
// wikitext2 test split (wiki.test.raw, looked for like the calibration sets: --dataset-path,
// $QUANTFORGE_DATA_DIR, <prefix>/share/quantforge/data), the bundled
// public-domain text, or a file given by path (.gz / .zst are decompressed).
#include <filesystem>
#include <string>
#include <vector>

namespace qf::eval {

struct EvalTextSpec {
  std::string dataset = "wikitext2";  // "wikitext2" | "bundled" | a file path
  std::string dataset_path;           // --dataset-path: searched first
  // Searched after the standard folders.
  std::vector<std::filesystem::path> extra_search_dirs;
};

struct EvalText {
  std::string text;
  std::filesystem::path source;
  std::string description;  // for the log, e.g. "wikitext2 test split (/data/wiki.test.raw)"
};

// qf::Error for a named dataset that is not found (listing every place looked, never substituting
// another text), a missing file, or a JSON-lines file (evaluation reads plain text).
EvalText load_eval_text(const EvalTextSpec& spec);

}  // namespace qf::eval
