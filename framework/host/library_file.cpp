#include "host/library_file.hpp"

#include <ar.h>
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;

namespace qf::host {
namespace {

// The part of an ELF header that decides whether this process can load the file; e_ident,
// e_type and e_machine sit at the same offsets for 32- and 64-bit files.
struct ElfStart {
  bool read = false;
  size_t size = 0;  // bytes read, up to sizeof(Elf64_Ehdr)
  unsigned char bytes[sizeof(Elf64_Ehdr)] = {};
  uint16_t type() const { return static_cast<uint16_t>(bytes[16] | (bytes[17] << 8)); }
  uint16_t machine() const { return static_cast<uint16_t>(bytes[18] | (bytes[19] << 8)); }
};

ElfStart read_start(const fs::path& file) {
  ElfStart s;
  std::ifstream in(file, std::ios::binary);
  if (!in) return s;
  in.read(reinterpret_cast<char*>(s.bytes), sizeof s.bytes);
  s.size = static_cast<size_t>(in.gcount());
  s.read = true;
  return s;
}

// This process's own header tells the class, byte order and machine a library must have.
const ElfStart& own_header() {
  static const ElfStart self = read_start("/proc/self/exe");
  return self;
}

std::string machine_name(uint16_t m) {
  switch (m) {
    case EM_386: return "32-bit x86";
    case EM_X86_64: return "x86-64";
    case EM_ARM: return "32-bit ARM";
    case EM_AARCH64: return "AArch64 (ARM64)";
    case EM_RISCV: return "RISC-V";
    case EM_PPC64: return "POWER (ppc64)";
    case EM_S390: return "s390x";
    default: return "ELF machine " + std::to_string(m);
  }
}

std::string demangled(const std::string& symbol) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status),
                                              std::free);
  return status == 0 && text ? std::string(text.get()) : symbol;
}

std::string after(const std::string& text, const std::string& marker) {
  const auto at = text.find(marker);
  return at == std::string::npos ? std::string() : text.substr(at + marker.size());
}

}  // namespace

std::string why_not_a_shared_library(const fs::path& file) {
  errno = 0;
  const ElfStart s = read_start(file);
  if (!s.read) return std::string("cannot be read (") + std::strerror(errno != 0 ? errno : EACCES) + ")";
  if (s.size == 0) return "empty file, not a shared library";
  if (s.size < SELFMAG || std::memcmp(s.bytes, ELFMAG, SELFMAG) != 0) {
    if (s.size >= SARMAG && std::memcmp(s.bytes, ARMAG, SARMAG) == 0)
      return "a static archive (.a), not a shared library: build the plugin as a shared (MODULE) library";
    return "not a shared library (invalid ELF header)";
  }
  if (s.size < EI_NIDENT + 4) return "not a shared library (truncated ELF file)";
  const ElfStart& self = own_header();
  if (self.read && self.size >= EI_NIDENT + 4) {
    if (s.bytes[EI_CLASS] != self.bytes[EI_CLASS])
      return std::string("a ") + (s.bytes[EI_CLASS] == ELFCLASS32 ? "32" : "64") + "-bit library; this program is " +
             (self.bytes[EI_CLASS] == ELFCLASS32 ? "32" : "64") + "-bit: rebuild the plugin for it";
    if (s.bytes[EI_DATA] != self.bytes[EI_DATA])
      return "a library of the other byte order (endianness): rebuild the plugin for this machine";
    if (s.machine() != self.machine())
      return "built for " + machine_name(s.machine()) + ", but this machine is " + machine_name(self.machine()) +
             ": rebuild the plugin for it";
  }
  const size_t header = s.bytes[EI_CLASS] == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
  if (s.size < header) return "not a shared library (truncated ELF file)";
  switch (s.type()) {
    case ET_DYN: return "";
    case ET_REL: return "an object file (.o), not a shared library: link the plugin as a shared (MODULE) library";
    case ET_EXEC: return "an executable, not a shared library";
    case ET_CORE: return "a core dump, not a shared library";
    default: return "not a shared library (ELF type " + std::to_string(s.type()) + ")";
  }
}

std::string explain_dlerror(const std::string& message, const fs::path& file) {
  // dlerror() says "<file>: <what>"; the caller names the file already.
  std::string what = message;
  const std::string prefix = file.string() + ": ";
  if (what.rfind(prefix, 0) == 0) what = what.substr(prefix.size());
  if (what.find("invalid ELF header") != std::string::npos) return "not a shared library (invalid ELF header)";
  if (what.find("file too short") != std::string::npos) return "not a shared library (file too short)";
  if (what.find("position-independent executable") != std::string::npos) return "an executable, not a shared library";
  if (const std::string symbol = after(what, "undefined symbol: "); !symbol.empty())
    return "undefined symbol " + demangled(symbol) +
           ": the plugin was built against a different version of a library it uses; rebuild it against this "
           "installation";
  if (what.find("version `") != std::string::npos && what.find("not found") != std::string::npos)
    return "needs a newer library than this system has (" + what + "); rebuild the plugin on this system";
  if (const auto at = what.find(": cannot open shared object file"); at != std::string::npos)
    return "needs " + what.substr(0, at) + ", which was not found: install it or add its folder to LD_LIBRARY_PATH";
  return "cannot be loaded: " + what;
}

std::string dlopen_failure(const fs::path& file) {
  dlerror();  // clear any stale message
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle != nullptr) {
    dlclose(handle);
    return "cannot be loaded (the dynamic linker gave no reason)";
  }
  const char* message = dlerror();
  return explain_dlerror(message != nullptr ? message : "unknown error", file);
}

}  // namespace qf::host
