// The committed ABI manifest must match the header: any change to a public struct's layout has to
// be made on purpose. Growing a struct at the end (a minor version) keeps every prefix pinned in
// sdk/abi/pinned_layout.cpp and only needs the manifest regenerated; anything else is a break and
// needs a new major version.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "abi_layout.hpp"

TEST_CASE("ABI layout matches the committed manifest", "[abi]") {
  const std::string path = std::string(QF_SOURCE_DIR) + "/sdk/abi/plugin_abi_v1.manifest";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream committed;
  committed << in.rdbuf();
  // Regenerate with: test_sdk --write-manifest (only for a deliberate, documented ABI change).
  CHECK(committed.str() == abi_layout());
}

TEST_CASE("v1 descriptor keeps its version fields first", "[abi]") {
  CHECK(offsetof(qf_plugin_descriptor, struct_size) == 0);
  CHECK(offsetof(qf_plugin_descriptor, abi_major) == 4);
  CHECK(offsetof(qf_plugin_descriptor, abi_minor) == 8);
}
