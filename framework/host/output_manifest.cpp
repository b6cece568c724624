#include "host/output_manifest.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/error.hpp"

namespace fs = std::filesystem;

namespace qf::host {

std::string manifest_file_name(const std::string& in_place_key) {
  return in_place_key.empty() ? ".quantforge-manifest.json" : ".quantforge-manifest-" + in_place_key + ".json";
}

std::optional<std::vector<std::string>> read_manifest(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    if (!j.is_object() || j.value("written_by", "") != "quantforge" || !j.contains("files") || !j["files"].is_array())
      return std::nullopt;
    std::vector<std::string> names;
    for (const auto& n : j["files"])
      if (n.is_string()) names.push_back(n.get<std::string>());
    return names;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void write_manifest(const fs::path& file, const std::vector<std::string>& names) {
  nlohmann::json j = {{"written_by", "quantforge"}, {"files", names}};
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out.flush()) throw Error("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) throw Error("cannot write " + file.string() + ": " + ec.message());
}

bool looks_like_our_log(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string first;
  std::getline(in, first);
  if (first.empty() && in.eof()) return true;
  static const std::regex prefix(R"(^\[\d\d:\d\d:\d\d\] \[[a-z]+\] )");
  return std::regex_search(first, prefix);
}

}  // namespace qf::host
