#pragma once
// Bit-exact reproduction of CPython's `random` module for the calls calibration loaders make
// (docs/gptq.md#python-random): random.seed(int) (MT19937 init_by_array with key = |seed| as 32-bit
// little-endian words), getrandbits(k), randint(a, b) via _randbelow rejection sampling.
#include <array>
#include <cstdint>

namespace qf::calib {

class PythonRandom {
 public:
  explicit PythonRandom(int64_t seed = 0) { this->seed(seed); }
  // random.seed(seed) for an int seed (negative seeds use |seed|, as CPython does).
  void seed(int64_t seed);
  // One tempered MT19937 output (CPython genrand_uint32).
  uint32_t genrand_uint32();
  // random.getrandbits(k), 0 <= k <= 64 (k > 32 takes the low word first, as CPython).
  uint64_t getrandbits(int k);
  // random._randbelow(n) for n >= 1: k = n.bit_length(); r = getrandbits(k) until r < n.
  uint64_t randbelow(uint64_t n);
  // random.randint(a, b) = a + _randbelow(b - a + 1); b >= a (qf::Error otherwise).
  int64_t randint(int64_t a, int64_t b);

 private:
  void init_genrand(uint32_t s);
  std::array<uint32_t, 624> mt_{};
  int mti_ = 625;
};

}  // namespace qf::calib
