#pragma once
// Runs a shell command line (a quantforge invocation) and returns its exit status and its output,
// stdout and stderr together, for the tests that check the executable end to end.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

namespace qf::test {

struct Result {
  int code;
  std::string output;
};

inline Result run_shell(const std::string& command_line) {
  FILE* pipe = popen((command_line + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace qf::test
