#include "eval/eval_text.hpp"

#include <algorithm>
#include <cctype>

#include "calib/data_dirs.hpp"
#include "calib/text_input.hpp"
#include "common/error.hpp"

namespace fs = std::filesystem;

namespace qf::eval {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}


}  // namespace

EvalText load_eval_text(const EvalTextSpec& spec) {
  if (spec.dataset.empty()) throw Error("no evaluation dataset given");
  const std::string name = lower(spec.dataset);
  if (name == "wikitext2" || name == "wikitext" || name == "bundled") {
    const std::vector<fs::path> dirs = calib::data_search_dirs(spec.dataset_path, spec.extra_search_dirs);
    std::vector<fs::path> looked;
    EvalText t;
    if (name == "bundled") {
      const std::vector<std::string> names{"calibration/public-domain.txt", "public-domain.txt"};
      t.source = calib::find_in_dirs(dirs, names, looked);
      if (t.source.empty()) calib::throw_dataset_not_found("evaluation", spec.dataset, dirs, names, looked);
      t.description = "bundled public-domain text (" + t.source.string() +
                      "; also the offline calibration default, so not held out for models calibrated on it)";
    } else {
      const std::vector<std::string> names{"wiki.test.raw", "wikitext-2-raw/wiki.test.raw"};
      t.source = calib::find_in_dirs(dirs, names, looked);
      if (t.source.empty()) calib::throw_dataset_not_found("evaluation", spec.dataset, dirs, names, looked);
      t.description = "wikitext2 test split (" + t.source.string() + ", the raw file as one string)";
    }
    t.text = calib::read_all(t.source);
    return t;
  }
  const fs::path file(spec.dataset);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw Error("evaluation dataset \"" + spec.dataset +
                "\" is neither a known name (wikitext2, bundled) nor an existing file");
  const std::string fname = lower(file.filename().string());
  for (const char* json_ext : {".jsonl", ".jsonl.zst", ".jsonl.gz", ".json", ".json.gz"})
    if (ends_with(fname, json_ext))
      throw Error("evaluation dataset " + spec.dataset + ": evaluation reads plain text (.txt, .raw, or any text "
                  "file, optionally .gz/.zst), not JSON records");
  EvalText t;
  t.source = file;
  t.text = calib::read_all(file);
  t.description = "text file " + file.string();
  return t;
}

}  // namespace qf::eval
