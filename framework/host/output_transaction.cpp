#include "host/output_transaction.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "host/output_manifest.hpp"

namespace fs = std::filesystem;

namespace qf::host {
namespace {

constexpr const char* kLogName = "quantize.log";

bool is_plain_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string listing(const std::vector<std::string>& names) {
  std::string out;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

uint64_t tree_bytes(const fs::path& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  return n;
}

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

// "a/b" -> "a_b": the key names hidden files in one folder.
std::string flat(const fs::path& relative) {
  std::string s = relative.generic_string();
  std::replace(s.begin(), s.end(), '/', '_');
  return s;
}

bool pid_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// Earlier versions named staging folders ".quantforge-staging-<pid>-<n>" and never cleaned up after
// a killed run; remove those whose process is gone.
void remove_legacy_staging(const fs::path& parent, std::vector<std::string>& notices) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    const std::string prefix = ".quantforge-staging-";
    if (name.rfind(prefix, 0) != 0 || !e.is_directory()) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos || rest.find_first_not_of("0123456789-") != std::string::npos) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid_alive(pid)) continue;
    const uint64_t bytes = tree_bytes(e.path());
    fs::remove_all(e.path(), ec);
    notices.push_back("removed " + e.path().string() + " (" + mib(bytes) + "), left by a killed run (pid " +
                      std::to_string(pid) + ")");
  }
}

}  // namespace

OutputTransaction::OutputTransaction(fs::path destination, std::set<fs::path> protected_files)
    : OutputTransaction(OutputSetSpec{std::move(destination), "", {}, std::move(protected_files), {}, false, true}) {}

OutputTransaction::OutputTransaction(OutputSetSpec spec) : spec_(std::move(spec)) {
  // Absolute, so that a bare relative name ("out") still has a parent to stage in.
  spec_.destination = fs::absolute(spec_.destination).lexically_normal();
  if (spec_.destination.filename().empty()) spec_.destination = spec_.destination.parent_path();
  for (const auto& p : std::set<fs::path>(spec_.protected_files)) spec_.protected_files.insert(canonical_or_self(p));
  std::error_code ec;
  if (folder_set()) {
    // Stage beside the destination, on its file system, so the final move is one rename.
    parent_ = spec_.destination.parent_path();
    while (!fs::is_directory(parent_, ec) && parent_.has_parent_path() && parent_ != parent_.parent_path())
      parent_ = parent_.parent_path();
    key_ = flat(spec_.destination.lexically_relative(parent_));
  } else {
    parent_ = spec_.destination;
    key_ = spec_.in_place_key;
  }
  if (!fs::is_directory(parent_, ec))
    throw Error("cannot create output folder " + spec_.destination.string() + ": no existing parent folder");
  if (::access(parent_.c_str(), W_OK | X_OK) != 0)
    throw Error("cannot create output folder " + spec_.destination.string() + ": " + std::strerror(errno) +
                " (" + parent_.string() + " is not writable)");
  lock_ = std::make_unique<DestinationLock>(parent_ / (".quantforge-" + key_ + ".lock"), spec_.destination.string());
  staging_ = parent_ / (".quantforge-staging-" + key_);
  check_destination();
  remove_legacy_staging(parent_, notices_);
  prepare_staging();
}

OutputTransaction::~OutputTransaction() {
  if (!done_) abandon(false);
}

// The destination must be absent, empty or ours (its manifest lists everything in it).
void OutputTransaction::check_destination() const {
  std::error_code ec;
  const fs::path& dest = spec_.destination;
  if (!folder_set()) {
    if (spec_.protected_files.count(canonical_or_self(dest / kLogName)))
      throw Error("refusing to write into " + dest.string() + ": its " + kLogName +
                  " was not written by quantforge and would be replaced by this run's log; move it away first");
    return;
  }
  if (!fs::exists(dest, ec)) return;
  if (!fs::is_directory(dest, ec)) throw Error("--output " + dest.string() + " exists and is not a folder");
  if (!spec_.model_dir.empty()) {
    const fs::path model = canonical_or_self(spec_.model_dir), target = canonical_or_self(dest);
    const auto rel = model.lexically_relative(target);
    if (!rel.empty() && *rel.begin() != "..")
      throw Error("refusing to write into " + dest.string() + ": it contains the model folder " +
                  spec_.model_dir.string());
  }
  const auto ours = read_manifest(dest / manifest_file_name(""));
  std::vector<std::string> foreign;
  for (const auto& e : fs::directory_iterator(dest, ec)) {
    const std::string name = e.path().filename().string();
    const bool listed = ours && (contains(*ours, name) || name == manifest_file_name("") ||
                                 (name == kLogName && looks_like_our_log(e.path())));
    if (!listed) foreign.push_back(name);
  }
  std::sort(foreign.begin(), foreign.end());
  if (foreign.empty() || spec_.overwrite) return;
  throw Error("refusing to write into " + dest.string() + ": it holds files quantforge did not write (" +
              listing(foreign) + "); choose a new or empty folder, or pass --overwrite to replace the folder as a whole");
}

void OutputTransaction::prepare_staging() {
  std::error_code ec;
  if (fs::exists(staging_, ec)) {
    // We hold the lock, so whoever staged here is gone (killed, out of memory, power loss).
    const bool resumable = fs::exists(staging_ / "resume" / "state.json", ec);
    if (resumable && spec_.keep_resume) {
      inherited_resume_ = true;
      if (fs::exists(log_path(), ec)) {
        fs::rename(log_path(), failed_log_path(), ec);
        if (!ec) notices_.push_back("the interrupted run's log is kept at " + failed_log_path().string());
      }
      fs::remove_all(staging_ / "out", ec);
      fs::remove_all(staging_ / "scratch", ec);
      notices_.push_back("found the resume state of an interrupted run in " + staging_.string());
    } else {
      const uint64_t bytes = tree_bytes(staging_);
      fs::remove_all(staging_, ec);
      if (ec) throw Error("cannot remove the leftovers of an interrupted run in " + staging_.string() + ": " + ec.message());
      notices_.push_back(std::string(resumable ? "discarded the resume state of an interrupted run" :
                                                 "removed the leftovers of an interrupted run") +
                         " (" + staging_.string() + ", " + mib(bytes) + ")");
    }
  }
  for (const char* sub : {"out", "scratch", "resume"}) {
    fs::create_directories(staging_ / sub, ec);
    if (ec) throw Error("cannot create output folder " + spec_.destination.string() + ": " + ec.message());
  }
}

fs::path OutputTransaction::create(const std::string& relative_name) {
  for (const char* prefix : {"scratch/", ".scratch/"}) {
    const std::string p = prefix;
    if (relative_name.rfind(p, 0) != 0) continue;
    const std::string base = relative_name.substr(p.size());
    if (!is_plain_name(base)) throw Error("output name '" + relative_name + "' must be a plain file name");
    return staging_ / "scratch" / base;
  }
  const std::string& base = relative_name;
  if (!is_plain_name(base)) throw Error("output name '" + relative_name + "' must be a plain file name");
  if (base == kLogName || base.rfind(".quantforge-", 0) == 0)
    throw Error("output name '" + base + "' is reserved for quantforge itself");
  if (contains(declared_, base)) throw Error("output file '" + base + "' was declared twice");
  if (spec_.protected_files.count(canonical_or_self(spec_.destination / base)))
    throw Error("refusing to overwrite the original model file " + (spec_.destination / base).string());
  declared_.push_back(base);
  return staging_ / "out" / base;
}

fs::path OutputTransaction::log_path() const { return staging_ / "out" / kLogName; }
fs::path OutputTransaction::resume_dir() const { return staging_ / "resume"; }

fs::path OutputTransaction::failed_log_path() const { return parent_ / ("quantize-failed-" + key_ + ".log"); }

void OutputTransaction::require_free_space(uint64_t bytes, const std::string& why) const {
  uint64_t free_bytes = 0;
  if (const char* fake = std::getenv("QUANTFORGE_TEST_FREE_BYTES")) {
    free_bytes = std::strtoull(fake, nullptr, 10);
  } else {
    struct statvfs s {};
    if (::statvfs(staging_.c_str(), &s) != 0) return;  // cannot tell: let the writes report it
    free_bytes = static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
  }
  if (free_bytes >= bytes) return;
  throw Error("not enough free space on " + parent_.string() + ": this run needs about " + mib(bytes) + " (" + why +
              ") and " + mib(free_bytes) + " are free; free some space or write elsewhere with --output DIR");
}

// In place: the files of the previous set (its manifest, or names an earlier version used).
std::vector<std::string> OutputTransaction::earlier_set() const {
  std::vector<std::string> names;
  std::error_code ec;
  const auto manifest = read_manifest(spec_.destination / manifest_file_name(key_));
  for (const auto& e : fs::directory_iterator(spec_.destination, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (spec_.protected_files.count(canonical_or_self(e.path()))) continue;
    const bool listed = manifest && contains(*manifest, name);
    if (listed || (spec_.earlier_output_name && spec_.earlier_output_name(name))) names.push_back(name);
  }
  return names;
}

std::vector<fs::path> OutputTransaction::commit() {
  QF_ASSERT(!done_, "commit after the transaction ended");
  std::error_code ec;
  for (const auto& name : declared_)
    if (!fs::exists(staging_ / "out" / name)) throw Error("output file '" + name + "' was declared but never written");
  std::vector<std::string> names = declared_;
  if (fs::exists(log_path(), ec)) names.push_back(kLogName);
  write_manifest(staging_ / "out" / manifest_file_name(folder_set() ? "" : key_), names);
  auto written = folder_set() ? commit_folder(names) : commit_in_place(names);
  done_ = true;
  fs::remove_all(staging_, ec);
  const fs::path failed = failed_log_path();
  if (fs::exists(failed, ec) && looks_like_our_log(failed)) fs::remove(failed, ec);  // superseded
  lock_.reset();
  return written;
}

std::vector<fs::path> OutputTransaction::commit_folder(const std::vector<std::string>& names) {
  const fs::path& dest = spec_.destination;
  const fs::path out = staging_ / "out";
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) throw Error("cannot create output folder " + dest.parent_path().string() + ": " + ec.message());
  if (!fs::exists(dest, ec)) {
    fs::rename(out, dest, ec);
    if (ec) throw Error("cannot move the output into " + dest.string() + ": " + ec.message());
  } else if (::renameat2(AT_FDCWD, out.c_str(), AT_FDCWD, dest.c_str(), RENAME_EXCHANGE) != 0) {
    // File systems without an atomic exchange: move the old folder aside, then the new one in.
    const fs::path old = staging_ / "previous";
    fs::rename(dest, old, ec);
    if (ec) throw Error("cannot replace " + dest.string() + ": " + ec.message());
    fs::rename(out, dest, ec);
    if (ec) {
      std::error_code back;
      fs::rename(old, dest, back);
      throw Error("cannot move the output into " + dest.string() + ": " + ec.message() +
                  (back ? "; the previous output is kept in " + old.string() : "; the previous output is unchanged"));
    }
  }
  std::vector<fs::path> written;
  for (const auto& n : names) written.push_back(dest / n);
  return written;
}

// Files beside the model's own: the old set is moved aside (its index first, so no reader finds an
// index naming missing or new shards), the new set moved in (its index and manifest last). Any
// failure puts everything back.
std::vector<fs::path> OutputTransaction::commit_in_place(const std::vector<std::string>& names) {
  const fs::path& dest = spec_.destination;
  const fs::path out = staging_ / "out", previous = staging_ / "previous";
  std::error_code ec;
  fs::create_directories(previous, ec);
  auto is_index = [](const std::string& n) { return n.size() > 11 && n.compare(n.size() - 11, 11, ".index.json") == 0; };
  std::vector<std::string> old = earlier_set();
  std::stable_partition(old.begin(), old.end(), is_index);  // indexes leave first
  std::vector<std::string> incoming = names;
  std::stable_partition(incoming.begin(), incoming.end(), [&](const std::string& n) { return !is_index(n); });
  incoming.push_back(manifest_file_name(key_));

  std::vector<std::string> moved_old, moved_new;
  auto undo = [&](const std::string& why) {
    std::error_code ignore;
    for (auto it = moved_new.rbegin(); it != moved_new.rend(); ++it) fs::rename(dest / *it, out / *it, ignore);
    for (auto it = moved_old.rbegin(); it != moved_old.rend(); ++it) fs::rename(previous / *it, dest / *it, ignore);
    throw Error(why + "; the folder is back as it was before this run");
  };
  for (const auto& n : old) {
    fs::rename(dest / n, previous / n, ec);
    if (ec) undo("cannot move the previous output " + n + " aside: " + ec.message());
    moved_old.push_back(n);
  }
  for (const auto& n : incoming) {
    fs::rename(out / n, dest / n, ec);
    if (ec) undo("cannot move " + n + " into " + dest.string() + ": " + ec.message());
    moved_new.push_back(n);
  }
  std::vector<fs::path> written;
  for (const auto& n : names) written.push_back(dest / n);
  return written;
}

OutputTransaction::Abandoned OutputTransaction::abandon(bool keep_resume) noexcept {
  Abandoned result;
  if (done_) return result;
  done_ = true;
  std::error_code ec;
  if (fs::exists(log_path(), ec) && fs::file_size(log_path(), ec) > 0) {
    result.log = failed_log_path();
    fs::rename(log_path(), result.log, ec);
    if (ec) result.log.clear();
  }
  const bool has_layers = fs::exists(resume_dir() / "state.json", ec);
  if (keep_resume && has_layers) {
    fs::remove_all(staging_ / "out", ec);
    fs::remove_all(staging_ / "scratch", ec);
    result.resume = staging_;
  } else {
    fs::remove_all(staging_, ec);
  }
  lock_.reset();
  return result;
}

void OutputTransaction::remove_staging_now() const noexcept {
  std::error_code ec;
  if (fs::exists(log_path(), ec)) fs::rename(log_path(), failed_log_path(), ec);
  // The main thread may still be writing into the staging folder: move it out of the way in one step
  // (new writes then fail instead of recreating it), then delete it, retrying what raced.
  const fs::path doomed = parent_ / (".quantforge-removing-" + key_ + "-" + std::to_string(::getpid()));
  fs::rename(staging_, doomed, ec);
  const fs::path& target = ec ? staging_ : doomed;
  for (int attempt = 0; attempt < 5 && fs::exists(target, ec); ++attempt) fs::remove_all(target, ec);
  if (lock_) fs::remove(lock_->path(), ec);
}

}  // namespace qf::host
