#pragma once
// Who a process is in a distributed quantize run and how it finds the others; no LibTorch here, so
// the command line and the run's request can carry it cheaply.
#include <chrono>
#include <cstdint>
#include <string>

namespace qf::dist {

struct DistributedOptions {
  int world_size = 1;
  int rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // How long a rank waits for the others: at the rendezvous, and in each collective.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};

  bool distributed() const { return world_size > 1; }
  // qf::Error naming the bad value (rank outside [0, world_size), port outside 1..65535, ...).
  void validate() const;
};

// "HOST:PORT" (an IPv6 host in brackets) into addr and port; qf::Error when malformed.
void parse_master(const std::string& text, std::string& addr, int& port);

// The blocks [begin, end) of `blocks` that `rank` of `world_size` owns: contiguous shares whose
// boundaries fall on multiples of `granule` (so per-granule partial sums are the same whatever the
// number of ranks), as even as the granules allow.
struct BlockShare {
  int64_t begin = 0, end = 0;
};
BlockShare block_share(int64_t blocks, int64_t granule, int rank, int world_size);

}  // namespace qf::dist
