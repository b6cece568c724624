#pragma once
// Plain-words reasons why a file cannot be loaded as a plugin library. The loader's own errors are
// terse ("invalid ELF header") or lost entirely ("Bad file descriptor"), so the file's first bytes
// are checked here before loading, and a failed load is re-asked of the dynamic linker.
#include <filesystem>
#include <string>

namespace qf::host {

// Why `file` cannot be a shared library for this process, judged from its ELF header (unreadable,
// empty, not ELF, truncated, 32-bit, another CPU, an object file or an executable); empty when it
// looks loadable.
std::string why_not_a_shared_library(const std::filesystem::path& file);

// The dynamic linker's error for `file`, in plain words (a missing dependency, an undefined symbol,
// a symbol version this system lacks, ...). Call after a load failed.
std::string dlopen_failure(const std::filesystem::path& file);

// Maps one dynamic linker message (dlerror() text) to a plain reason; exposed for tests.
std::string explain_dlerror(const std::string& message, const std::filesystem::path& file);

}  // namespace qf::host
