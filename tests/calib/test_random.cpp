// RNG reproductions, checked against CPython 3.11 `random` and numpy 1.24 (values printed by them).
#include <catch2/catch.hpp>

#include <vector>

#include "calib/numpy_random.hpp"
#include "calib/python_random.hpp"
#include "common/error.hpp"

using qf::calib::NumpyPCG64;
using qf::calib::numpy_permutation;
using qf::calib::PythonRandom;

TEST_CASE("python random: CPython 3.11 reference vectors for seed(0)", "[calib][rng]") {
  PythonRandom r(0);
  CHECK(r.getrandbits(32) == 3626764237u);
  CHECK(r.getrandbits(32) == 1654615998u);

  r.seed(0);
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(r.randint(0, 2000000));
  CHECK(got == std::vector<int64_t>{1770880, 807917, 1589545, 1866976, 882002});

  r.seed(0);
  got.clear();
  for (int i = 0; i < 5; ++i) got.push_back(r.randint(0, 10));
  CHECK(got == std::vector<int64_t>{6, 6, 0, 4, 8});
}

TEST_CASE("python random: multi-word and negative seeds, wide draws", "[calib][rng]") {
  PythonRandom r(123456789012);  // two key words
  CHECK(r.randint(0, 1000) == 386);
  CHECK(r.randint(0, 1000) == 667);
  CHECK(r.randint(0, 1000) == 21);
  r.seed(-7);  // |seed|
  CHECK(r.randint(5, 9) == 7);
  CHECK(r.randint(5, 9) == 6);
  CHECK(r.randint(5, 9) == 8);
  r.seed(1);
  CHECK(r.getrandbits(64) == 10499958131665514997ull);
  CHECK(r.getrandbits(40) == 884107995871ull);
  r.seed(0);
  CHECK(r.randint(0, int64_t{1} << 40) == 849735321549);
  CHECK(r.randint(0, int64_t{1} << 40) == 87705687125);
  CHECK(r.randint(3, 3) == 3);
  CHECK_THROWS_AS(r.randint(0, -1), qf::Error);
}

TEST_CASE("numpy default_rng: PCG64 seeding and permutation", "[calib][rng]") {
  NumpyPCG64 g(42);
  CHECK(g.next_double() == 0.7739560485559633);
  CHECK(numpy_permutation(42, 10) == std::vector<int64_t>{5, 6, 0, 7, 3, 2, 4, 9, 1, 8});
  CHECK(numpy_permutation(0, 7) == std::vector<int64_t>{2, 4, 3, 6, 5, 0, 1});
  // The size of mit-han-lab/pile-val-backup (The Pile's val.jsonl.zst): AutoAWQ's order.
  const auto pile = numpy_permutation(42, 214670);
  CHECK(std::vector<int64_t>(pile.begin(), pile.begin() + 6) ==
        std::vector<int64_t>{148233, 143250, 54461, 160944, 92300, 213774});
  CHECK(std::vector<int64_t>(pile.end() - 3, pile.end()) == std::vector<int64_t>{131009, 129997, 75400});
  const auto p43 = numpy_permutation(43, 100000);
  CHECK(std::vector<int64_t>(p43.begin(), p43.begin() + 4) == std::vector<int64_t>{22957, 78721, 32416, 10744});
  const auto wide = numpy_permutation((uint64_t{1} << 40) + 5, 50);  // two-word seed
  CHECK(std::vector<int64_t>(wide.begin(), wide.begin() + 6) == std::vector<int64_t>{2, 8, 48, 7, 34, 45});
  CHECK(numpy_permutation(42, 0).empty());
  CHECK(numpy_permutation(42, 1) == std::vector<int64_t>{0});
}
