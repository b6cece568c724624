#pragma once
// Calibration sets: named datasets (wikitext2, pileval, c4, bundled) found in the data search
// folders, or a plain file (.txt, .jsonl[.zst|.gz], .json.gz), turned into token blocks of exactly
// `seqlen` tokens with the reference implementations' protocols (docs/gptq.md#calibration,
// docs/awq.md#calibration).
// Deterministic: the same spec and tokenizer give the same blocks. A named dataset that cannot be
// found is a DatasetNotFound (calib/data_dirs.hpp) listing every place looked; nothing is ever
// substituted here (a recipe's fallback is the caller's decision, made visibly).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "calib/data_dirs.hpp"
#include "tokenizer/tokenizer.hpp"

namespace qf::calib {

struct CalibrationSpec {
  // "wikitext2" (wiki.train.raw) | "wikitext2-valid" (wiki.valid.raw, bundled) | "pileval" | "c4" |
  // "bundled" | a file path (.txt, .raw, .jsonl, .jsonl.zst, .jsonl.gz, .json.gz, .json). A file
  // named wiki.<split>.raw is read as wikitext2.
  std::string dataset = "wikitext2";
  std::string dataset_path;  // --dataset-path: searched first
  int64_t num_samples = 128;  // blocks (gptq/optimum/c4), documents (awq: see description)
  int64_t seqlen = 2048;
  int64_t seed = 0;
  std::string text_field = "text";  // JSON lines field
  // "auto" (the dataset's default) | "gptq" | "optimum" | "awq" | "c4". See calibration.cpp.
  std::string protocol = "auto";
  // Searched after the standard folders (the bundled data is in <prefix>/share/quantforge/data, which
  // is one of them).
  std::vector<std::filesystem::path> extra_search_dirs;
};

struct CalibrationSet {
  std::vector<std::vector<int32_t>> blocks;  // each exactly seqlen tokens
  // What was used, for the log, e.g. "wikitext2 (GPTQ paper protocol) from /x/wiki.valid.raw
  // (validation split; ...): 128 x 2048 tokens, seed 0".
  std::string description;
  std::filesystem::path source;
  std::string protocol;  // resolved: "gptq" | "optimum" | "awq" | "c4"
};

CalibrationSet load_calibration(const CalibrationSpec& spec, const qf::tok::Tokenizer& tokenizer);

}  // namespace qf::calib
