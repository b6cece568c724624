#pragma once
// The numpy pieces Hugging Face `datasets` uses for Dataset.shuffle(seed): 
// np.random.default_rng(seed).permutation(n) = SeedSequence(seed) -> PCG64 (XSL-RR 128/64) ->
// Generator.shuffle(arange(n)) (Fisher-Yates from the end, j = random_interval(i)).
// Checked against numpy 1.24 (tests/calib); the algorithm is unchanged in numpy 2.x.
#include <cstdint>
#include <vector>

namespace qf::calib {

class NumpyPCG64 {
 public:
  // np.random.default_rng(seed) for a non-negative int seed (< 2^64).
  explicit NumpyPCG64(uint64_t seed);
  uint64_t next_uint64();
  // numpy's buffered 32-bit draw: low half of a 64-bit output, then its high half.
  uint32_t next_uint32();
  // Generator.random(): 53-bit double in [0, 1).
  double next_double();
  // numpy's random_interval(max): uniform in [0, max] by masked rejection (32-bit draws when
  // max < 2^32). This, not the Lemire bounded draw of Generator.integers, is what shuffle uses.
  uint64_t interval(uint64_t max);

 private:
  __extension__ typedef unsigned __int128 u128;
  void step();
  u128 state_ = 0;
  u128 inc_ = 0;
  bool has_uint32_ = false;
  uint32_t uinteger_ = 0;
};

// np.random.default_rng(seed).permutation(n).
std::vector<int64_t> numpy_permutation(uint64_t seed, int64_t n);

}  // namespace qf::calib
