#include "calib/text_input.hpp"

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/error.hpp"

namespace qf::calib {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using ChunkFn = std::function<bool(const char*, size_t)>;

void stream_plain(const std::filesystem::path& path, const ChunkFn& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got > 0 && !fn(buf.data(), got)) return;
  }
  if (in.bad()) throw Error("error reading " + path.string());
}

void stream_zstd(const std::filesystem::path& path, const ChunkFn& fn) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error("cannot open " + path.string());
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(), &ZSTD_freeDStream);
  if (!ds) throw Error("zstd: out of memory reading " + path.string());
  ZSTD_initDStream(ds.get());
  std::vector<char> in_buf(ZSTD_DStreamInSize());
  std::vector<char> out_buf(ZSTD_DStreamOutSize());
  size_t last_ret = 0;
  bool any_input = false;
  for (;;) {
    const size_t got = std::fread(in_buf.data(), 1, in_buf.size(), file.get());
    if (got == 0) {
      if (std::ferror(file.get())) throw Error("error reading " + path.string());
      break;
    }
    any_input = true;
    ZSTD_inBuffer input{in_buf.data(), got, 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out_buf.data(), out_buf.size(), 0};
      last_ret = ZSTD_decompressStream(ds.get(), &output, &input);
      if (ZSTD_isError(last_ret)) {
        throw Error("zstd: " + std::string(ZSTD_getErrorName(last_ret)) + " in " + path.string());
      }
      if (output.pos > 0 && !fn(out_buf.data(), output.pos)) return;
    }
  }
  // ZSTD_DStreamOutSize() always fits a whole block, so nothing is left buffered once the input is
  // consumed; a non-zero last return means the last frame is incomplete (zstd's streaming example).
  if (!any_input) throw Error("zstd: empty file " + path.string());
  if (last_ret != 0) throw Error("zstd: truncated file " + path.string());
}

void stream_gzip(const std::filesystem::path& path, const ChunkFn& fn) {
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), &gzclose);
  if (!gz) throw Error("cannot open " + path.string());
  gzbuffer(gz.get(), 1 << 17);
  std::vector<char> buf(1 << 20);
  for (;;) {
    const int got = gzread(gz.get(), buf.data(), static_cast<unsigned>(buf.size()));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(gz.get(), &errnum);
      throw Error("gzip: " + std::string(msg ? msg : "read error") + " in " + path.string());
    }
    if (got == 0) {
      int errnum = 0;
      const char* msg = gzerror(gz.get(), &errnum);
      if (errnum != Z_OK && errnum != Z_BUF_ERROR) {
        throw Error("gzip: " + std::string(msg ? msg : "read error") + " in " + path.string());
      }
      if (errnum == Z_BUF_ERROR) throw Error("gzip: truncated file " + path.string());
      break;
    }
    if (!fn(buf.data(), static_cast<size_t>(got))) return;
  }
}

void stream_file(const std::filesystem::path& path, const ChunkFn& fn) {
  if (!std::filesystem::is_regular_file(path)) throw Error("not a file: " + path.string());
  const std::string name = path.filename().string();
  if (ends_with(name, ".zst")) {
    stream_zstd(path, fn);
  } else if (ends_with(name, ".gz")) {
    stream_gzip(path, fn);
  } else {
    stream_plain(path, fn);
  }
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

// Decodes one UTF-8 code point at s[i]; returns its length (1 for invalid bytes, cp = -1).
size_t decode_at(std::string_view s, size_t i, int32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xe ? 3 : (b0 >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    cp = -1;
    return 1;
  }
  int32_t v = len == 1 ? b0 : len == 2 ? (b0 & 0x1f) : len == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) {
      cp = -1;
      return 1;
    }
    v = (v << 6) | (b & 0x3f);
  }
  cp = v;
  return len;
}

// CPython Py_UNICODE_ISSPACE.
bool py_isspace(int32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

}  // namespace

std::string read_all(const std::filesystem::path& path) {
  std::string out;
  stream_file(path, [&](const char* p, size_t n) {
    out.append(p, n);
    return true;
  });
  return out;
}

void for_each_line(const std::filesystem::path& path, const std::function<bool(std::string_view)>& fn) {
  std::string pending;
  bool stopped = false;
  stream_file(path, [&](const char* p, size_t n) {
    std::string_view chunk(p, n);
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        pending.append(chunk);
        break;
      }
      bool go;
      if (pending.empty()) {
        go = fn(chunk.substr(0, nl));
      } else {
        pending.append(chunk.substr(0, nl));
        go = fn(pending);
        pending.clear();
      }
      if (!go) {
        stopped = true;
        return false;
      }
      chunk.remove_prefix(nl + 1);
    }
    return true;
  });
  if (!stopped && !pending.empty()) fn(pending);
}

void for_each_record_line(const std::filesystem::path& path,
                          const std::function<bool(int64_t, std::string_view)>& fn) {
  int64_t index = 0;
  for_each_line(path, [&](std::string_view line) {
    if (is_blank(line)) return true;
    return fn(index++, line);
  });
}

int64_t count_records(const std::filesystem::path& path) {
  int64_t n = 0;
  for_each_record_line(path, [&](int64_t, std::string_view) {
    ++n;
    return true;
  });
  return n;
}

std::string record_text(std::string_view line, const std::string& field, const std::filesystem::path& path,
                        int64_t index) {
  const std::string where = path.string() + " record " + std::to_string(index) + " (0-based, blank lines not counted)";
  nlohmann::json rec;
  try {
    rec = nlohmann::json::parse(line.begin(), line.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": not valid JSON: " + e.what());
  }
  if (!rec.is_object()) throw Error(where + ": expected one JSON object per line");
  const auto it = rec.find(field);
  if (it == rec.end()) throw Error(where + ": no field \"" + field + "\" (set the text field name)");
  if (!it->is_string()) throw Error(where + ": field \"" + field + "\" is not a string");
  return it->get<std::string>();
}

std::string_view py_strip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    int32_t cp = 0;
    const size_t len = decode_at(s, begin, cp);
    if (!py_isspace(cp)) break;
    begin += len;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the previous code point.
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80 && end - start < 4) --start;
    int32_t cp = 0;
    const size_t len = decode_at(s, start, cp);
    if (start + len != end || !py_isspace(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::string universal_newlines(std::string s) {
  if (s.find('\r') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace qf::calib
