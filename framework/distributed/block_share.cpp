#include "distributed/options.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace qf::dist {

BlockShare block_share(int64_t blocks, int64_t granule, int rank, int world_size) {
  QF_ASSERT(world_size >= 1 && rank >= 0 && rank < world_size && granule >= 1, "bad block share request");
  const int64_t granules = (blocks + granule - 1) / granule;
  auto first_granule = [&](int r) { return granules * r / world_size; };  // even split of whole granules
  BlockShare s;
  s.begin = std::min(blocks, first_granule(rank) * granule);
  s.end = std::min(blocks, first_granule(rank + 1) * granule);
  return s;
}

void parse_master(const std::string& text, std::string& addr, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error("--master must be HOST:PORT (e.g. 10.0.0.1:29500), got \"" + text + "\"");
  addr = text.substr(0, colon);
  if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']') addr = addr.substr(1, addr.size() - 2);
  const std::string digits = text.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 5)
    throw Error("--master port must be a number, got \"" + digits + "\"");
  port = std::stoi(digits);
}

void DistributedOptions::validate() const {
  if (world_size < 1) throw Error("--world-size must be at least 1, got " + std::to_string(world_size));
  if (rank < 0 || rank >= world_size)
    throw Error("--rank must be in [0, " + std::to_string(world_size) + "), got " + std::to_string(rank));
  if (master_port < 1 || master_port > 65535)
    throw Error("the master port must be in 1..65535, got " + std::to_string(master_port));
  if (master_addr.empty()) throw Error("the master address is empty (--master HOST:PORT or MASTER_ADDR)");
  if (timeout.count() <= 0) throw Error("the distributed timeout must be positive");
}

}  // namespace qf::dist
