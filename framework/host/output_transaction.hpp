#pragma once
// All-or-nothing output. A run writes its files into a staging folder beside the destination and
// moves them into place only when the whole run succeeded:
//
//   <parent>/.quantforge-<key>.lock          one run per destination (DestinationLock)
//   <parent>/.quantforge-staging-<key>/
//       out/       the output set being built (for a folder destination it becomes that folder)
//       scratch/   temporaries, never committed
//       resume/    per-layer state that lets an interrupted run continue (kept on interrupt)
//
// A folder destination (subdirectory / --output layouts) is replaced as a whole by one atomic
// rename exchange, so a reader sees the old folder or the new one. An in-place set (files beside
// the model's own) is moved in with its index last and rolled back on failure. The destination must
// be empty, absent, or hold only what an earlier run of ours wrote (its manifest says which files),
// unless `overwrite` asks to replace the folder as a whole.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host/destination_lock.hpp"

namespace qf::host {

struct OutputSetSpec {
  std::filesystem::path destination;  // the folder the files end up in
  // Empty: the destination folder is the output set. Otherwise the set lives beside other files
  // (in place, beside the model's own) and this names it ("AWQ").
  std::string in_place_key;
  // In place: file names an earlier run wrote (matched when no manifest lists them).
  std::function<bool(const std::string&)> earlier_output_name;
  std::set<std::filesystem::path> protected_files;  // never replaced, never removed
  std::filesystem::path model_dir;                   // never inside a folder we replace
  bool overwrite = false;    // replace a destination folder that holds files we did not write
  bool keep_resume = true;   // false: discard an interrupted run's resume state instead of keeping it
};

class OutputTransaction {
 public:
  // Locks the destination, checks it (ownership, writability) and prepares the staging folder.
  // Nothing is created at the destination itself. Throws qf::Error with one clear message.
  explicit OutputTransaction(OutputSetSpec spec);
  // A folder destination without overwrite (the common case in tests).
  OutputTransaction(std::filesystem::path destination, std::set<std::filesystem::path> protected_files);
  ~OutputTransaction();  // abandons the staged output unless committed
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;

  // The staging path for `relative_name`: a plain file name to commit, or "scratch/<name>" (also
  // accepted: ".scratch/<name>") for a temporary file that is removed instead. Throws qf::Error for
  // names that escape the folder, are declared twice, or would replace a protected file.
  std::filesystem::path create(const std::string& relative_name);

  // The run's log while it is staged: committed with the set, kept apart when the run fails.
  std::filesystem::path log_path() const;
  std::filesystem::path resume_dir() const;
  // True when the staging folder of an interrupted run was kept for resuming.
  bool inherited_resume_state() const { return inherited_resume_; }
  // What the constructor cleaned up (leftovers of killed runs), one line each, for the log.
  const std::vector<std::string>& notices() const { return notices_; }
  // Throws qf::Error when the staging file system has fewer than `bytes` free.
  void require_free_space(uint64_t bytes, const std::string& why) const;

  // Moves the set into place. Throws qf::Error naming a declared file that was never written, or
  // the failing move; the destination is then restored to its previous state.
  std::vector<std::filesystem::path> commit();

  struct Abandoned {
    std::filesystem::path log;     // where the run's log was kept ("" when there was none)
    std::filesystem::path resume;  // the kept resume state ("" when discarded)
  };
  // Removes the staged output. `keep_resume`: keep the resume state (an interrupted run) when it
  // holds any finished layer. Idempotent; never throws.
  Abandoned abandon(bool keep_resume) noexcept;
  // For an emergency exit from another thread (a second interrupt): keeps the log, removes the
  // staging folder and the lock file by path alone, without touching this object's state.
  void remove_staging_now() const noexcept;
  void rollback() noexcept { abandon(false); }

  const std::filesystem::path& destination() const { return spec_.destination; }
  const std::filesystem::path& staging_dir() const { return staging_; }
  bool folder_set() const { return spec_.in_place_key.empty(); }

 private:
  void check_destination() const;
  void prepare_staging();
  std::vector<std::string> earlier_set() const;
  std::vector<std::filesystem::path> commit_folder(const std::vector<std::string>& names);
  std::vector<std::filesystem::path> commit_in_place(const std::vector<std::string>& names);
  std::filesystem::path failed_log_path() const;

  OutputSetSpec spec_;
  std::string key_;
  std::filesystem::path parent_;   // where staging and lock live (same file system as the destination)
  std::filesystem::path staging_;
  std::unique_ptr<DestinationLock> lock_;
  std::vector<std::string> declared_;
  std::vector<std::string> notices_;
  bool inherited_resume_ = false;
  bool done_ = false;
};

}  // namespace qf::host
