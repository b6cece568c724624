#include "host/output_transaction.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "common/error.hpp"

namespace fs = std::filesystem;

namespace qf::host {
namespace {

bool is_plain_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

}  // namespace

OutputTransaction::OutputTransaction(fs::path destination, std::set<fs::path> protected_files)
    // Absolute, so that a bare relative name ("out") still has a parent to stage in.
    : destination_(fs::absolute(std::move(destination))) {
  for (const auto& p : protected_files) protected_.insert(canonical_or_self(p));
  // Stage on the destination's file system so the final moves are atomic renames.
  fs::path parent = destination_;
  std::error_code ec;
  while (!fs::is_directory(parent, ec) && parent.has_parent_path() && parent != parent.parent_path())
    parent = parent.parent_path();
  if (!fs::is_directory(parent, ec)) throw Error("cannot find a folder to stage output for " + destination_.string());
  std::random_device rd;
  staging_ = parent / (".quantforge-staging-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000));
  if (!fs::create_directories(staging_ / ".scratch", ec) || ec)
    throw Error("cannot create staging folder " + staging_.string() + ": " + ec.message());
}

OutputTransaction::~OutputTransaction() {
  if (!done_) rollback();
}

fs::path OutputTransaction::create(const std::string& relative_name) {
  const bool scratch = relative_name.rfind(".scratch/", 0) == 0;
  const std::string base = scratch ? relative_name.substr(9) : relative_name;
  if (!is_plain_name(base)) throw Error("output name '" + relative_name + "' must be a plain file name");
  if (scratch) return staging_ / ".scratch" / base;
  if (std::find(declared_.begin(), declared_.end(), base) != declared_.end())
    throw Error("output file '" + base + "' was declared twice");
  if (protected_.count(canonical_or_self(destination_ / base)))
    throw Error("refusing to overwrite the original model file " + (destination_ / base).string());
  declared_.push_back(base);
  return staging_ / base;
}

std::vector<fs::path> OutputTransaction::commit() {
  for (const auto& name : declared_)
    if (!fs::exists(staging_ / name)) throw Error("output file '" + name + "' was declared but never written");
  std::error_code ec;
  fs::create_directories(destination_, ec);
  if (ec) throw Error("cannot create output folder " + destination_.string() + ": " + ec.message());
  std::vector<fs::path> written;
  for (const auto& name : declared_) {
    fs::rename(staging_ / name, destination_ / name, ec);
    if (ec) throw Error("cannot move " + name + " into " + destination_.string() + ": " + ec.message());
    written.push_back(destination_ / name);
  }
  done_ = true;
  fs::remove_all(staging_, ec);
  return written;
}

void OutputTransaction::rollback() noexcept {
  std::error_code ec;
  fs::remove_all(staging_, ec);
  done_ = true;
}

}  // namespace qf::host
