#pragma once
// "5GB" -> 5'000'000'000 (decimal units, as huggingface_hub), "4GiB" -> 4 * 2^30, "123" -> bytes.
#include <cstdint>
#include <string>

uint64_t parse_size_text(const std::string& text);  // throws std::invalid_argument naming the text
