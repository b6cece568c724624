// All-or-nothing output: staged files appear only on commit; protected files are never replaced.
#include <catch2/catch.hpp>
#include <fstream>

#include "common/error.hpp"
#include "host/output_transaction.hpp"

namespace fs = std::filesystem;
using qf::host::OutputTransaction;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
size_t entries(const fs::path& d) {
  size_t n = 0;
  for (auto it = fs::directory_iterator(d); it != fs::directory_iterator(); ++it) ++n;
  return n;
}
}  // namespace

TEST_CASE("a bare relative destination stages in the working directory", "[output]") {
  const fs::path root = fresh_dir("qf_tx_relative");
  const fs::path cwd = fs::current_path();
  fs::current_path(root);
  {
    OutputTransaction tx("out", {});  // no parent path, and "out" does not exist yet
    std::ofstream(tx.create("a.txt")) << "a";
    tx.commit();
  }
  fs::current_path(cwd);
  CHECK(fs::exists(root / "out" / "a.txt"));
  CHECK(entries(root) == 1);
  fs::remove_all(root);
}

TEST_CASE("commit moves staged files into place; rollback leaves nothing", "[output]") {
  const fs::path root = fresh_dir("qf_tx_test");
  {
    OutputTransaction tx(root / "out", {});
    std::ofstream(tx.create("a.txt")) << "a";
    std::ofstream(tx.create(".scratch/spool")) << "tmp";
    CHECK_FALSE(fs::exists(root / "out"));
    const auto files = tx.commit();
    CHECK(files.size() == 1);
  }
  CHECK(fs::exists(root / "out" / "a.txt"));
  CHECK(entries(root) == 1);  // no staging folder left
  {
    OutputTransaction tx(root / "out2", {});
    std::ofstream(tx.create("b.txt")) << "b";
  }  // destroyed without commit
  CHECK_FALSE(fs::exists(root / "out2"));
  CHECK(entries(root) == 1);
  fs::remove_all(root);
}

TEST_CASE("declared-but-unwritten, duplicate, escaping and protected names are errors", "[output]") {
  const fs::path root = fresh_dir("qf_tx_test2");
  std::ofstream(root / "model.safetensors") << "original";
  OutputTransaction tx(root, {root / "model.safetensors"});
  CHECK_THROWS_WITH(tx.create("model.safetensors"), Catch::Contains("refusing to overwrite the original"));
  CHECK_THROWS_WITH(tx.create("../escape"), Catch::Contains("plain file name"));
  tx.create("x.json");
  CHECK_THROWS_WITH(tx.create("x.json"), Catch::Contains("declared twice"));
  CHECK_THROWS_WITH(tx.commit(), Catch::Contains("never written"));
  tx.rollback();
  std::ifstream in(root / "model.safetensors");
  std::string content;
  in >> content;
  CHECK(content == "original");
  fs::remove_all(root);
}
