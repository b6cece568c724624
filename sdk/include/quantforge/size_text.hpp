// Sizes as recipes write them: "5GB" -> 5'000'000'000 (decimal units, as huggingface_hub reads
// max_shard_size), "4GiB" -> 4 * 2^30, "123" -> bytes. Header-only, no dependencies.
#pragma once

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace qf::sdk {

// Throws std::invalid_argument naming the option and the text.
inline uint64_t parse_size_text(const std::string& text, const std::string& option = "max_shard_size") {
  size_t pos = 0;
  while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) ++pos;
  if (pos == 0) throw std::invalid_argument(option + " \"" + text + "\" does not start with a number");
  const double number = std::stod(text.substr(0, pos));
  std::string unit = text.substr(pos);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB") scale = 1e3;
  else if (unit == "MB") scale = 1e6;
  else if (unit == "GB") scale = 1e9;
  else if (unit == "TB") scale = 1e12;
  else if (unit == "KIB") scale = 1024.0;
  else if (unit == "MIB") scale = 1024.0 * 1024;
  else if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
  else throw std::invalid_argument(option + " \"" + text + "\" has an unknown unit (use B, KB, MB, GB, KiB, MiB, GiB)");
  const double bytes = number * scale;
  if (bytes < 1) throw std::invalid_argument(option + " \"" + text + "\" must be at least 1 byte");
  return static_cast<uint64_t>(bytes);
}

}  // namespace qf::sdk
