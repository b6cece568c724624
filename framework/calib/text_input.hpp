#pragma once
// Reading calibration files: whole text or line by line, decompressing by extension
// (.zst with libzstd streaming, .gz with zlib gzread; anything else is read as is), and
// JSON-lines records with a text field. Errors are qf::Error naming the file (and line).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace qf::calib {

// Whole (decompressed) content.
std::string read_all(const std::filesystem::path& path);

// Calls fn(line) for every line of the decompressed content, without its '\n' (a trailing '\r'
// is kept). fn returns false to stop early.
void for_each_line(const std::filesystem::path& path, const std::function<bool(std::string_view)>& fn);

// JSON lines: a record is a non-blank line (as Hugging Face's json loader counts rows).
// fn(index, line) for each record, index counting records from 0; false stops.
void for_each_record_line(const std::filesystem::path& path,
                          const std::function<bool(int64_t, std::string_view)>& fn);
int64_t count_records(const std::filesystem::path& path);
// rec[field] as a string; qf::Error naming file, record and field when the line is not a JSON
// object or the field is missing / not a string.
std::string record_text(std::string_view line, const std::string& field,
                        const std::filesystem::path& path, int64_t index);

// Python str.strip() with no arguments (Unicode whitespace, on UTF-8 text).
std::string_view py_strip(std::string_view s);

// Python text-mode universal newlines: "\r\n" and lone "\r" become "\n".
std::string universal_newlines(std::string s);

}  // namespace qf::calib
