#pragma once
// All-or-nothing output: files are written under a staging folder beside their destination and
// moved into place only when the whole run succeeded. A failed or cancelled run removes the
// staging folder and leaves the destination as it was.
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace qf::host {

class OutputTransaction {
 public:
  // `destination`: the folder the files end up in (created on commit if needed).
  // `protected_files`: files that must never be replaced (the user's original model files).
  OutputTransaction(std::filesystem::path destination, std::set<std::filesystem::path> protected_files);
  ~OutputTransaction();  // rolls back unless committed
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;

  // The staging path for `relative_name` (a plain file name, or ".scratch/<name>" for a temporary
  // file that is deleted instead of committed). Throws qf::Error for names that escape the folder,
  // are declared twice, or would replace a protected file.
  std::filesystem::path create(const std::string& relative_name);

  // Moves every declared file into the destination. Throws qf::Error naming a declared file that
  // was never written.
  std::vector<std::filesystem::path> commit();
  void rollback() noexcept;

  const std::filesystem::path& destination() const { return destination_; }
  const std::filesystem::path& staging_dir() const { return staging_; }

 private:
  std::filesystem::path destination_;
  std::filesystem::path staging_;
  std::set<std::filesystem::path> protected_;
  std::vector<std::string> declared_;
  bool done_ = false;
};

}  // namespace qf::host
