#pragma once
// Resident memory of this process, for the per-layer progress lines and the final phase table
// (benchmarks read them to show that memory stays flat in the number of layers).
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

namespace qf::pipeline {

// Highest resident set size so far, GiB.
inline double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

// Resident set size now, GiB (0 when /proc is unavailable).
inline double current_rss_gib() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0.0;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0 * 1024.0);
}

}  // namespace qf::pipeline
