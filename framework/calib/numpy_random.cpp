#include "calib/numpy_random.hpp"

#include <array>

#include "common/error.hpp"

namespace qf::calib {
namespace {

// numpy/random/bit_generator.pyx SeedSequence (pool_size 4, 32-bit words).
constexpr uint32_t kInitA = 0x43b0d7e5U;
constexpr uint32_t kMultA = 0x931e8875U;
constexpr uint32_t kInitB = 0x8b51f9ddU;
constexpr uint32_t kMultB = 0x58f38dedU;
constexpr uint32_t kMixMultL = 0xca01f9ddU;
constexpr uint32_t kMixMultR = 0x4973f715U;
constexpr int kXShift = 16;
constexpr int kPoolSize = 4;

uint32_t hashmix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// SeedSequence(seed).generate_state(4, np.uint64) as 8 uint32 words, little-endian pairs.
std::array<uint64_t, 4> seed_sequence_state(uint64_t seed) {
  std::vector<uint32_t> entropy{static_cast<uint32_t>(seed & 0xffffffffU)};
  if ((seed >> 32) != 0) entropy.push_back(static_cast<uint32_t>(seed >> 32));
  std::array<uint32_t, kPoolSize> pool{};
  uint32_t hash_const = kInitA;
  for (size_t i = 0; i < kPoolSize; ++i) {
    pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0U, hash_const);
  }
  for (size_t src = 0; src < kPoolSize; ++src) {
    for (size_t dst = 0; dst < kPoolSize; ++dst) {
      if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src], hash_const));
    }
  }
  for (size_t src = kPoolSize; src < entropy.size(); ++src) {
    for (size_t dst = 0; dst < kPoolSize; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src], hash_const));
  }
  std::array<uint32_t, 8> words{};
  uint32_t hc = kInitB;
  for (size_t i = 0; i < words.size(); ++i) {
    uint32_t v = pool[i % kPoolSize];
    v ^= hc;
    hc *= kMultB;
    v *= hc;
    v ^= v >> kXShift;
    words[i] = v;
  }
  std::array<uint64_t, 4> out{};
  for (size_t i = 0; i < 4; ++i) out[i] = uint64_t{words[2 * i]} | (uint64_t{words[2 * i + 1]} << 32);
  return out;
}

}  // namespace

void NumpyPCG64::step() {
  const u128 mult = (u128{0x2360ED051FC65DA4ULL} << 64) | u128{0x4385DF649FCCF645ULL};
  state_ = state_ * mult + inc_;
}

NumpyPCG64::NumpyPCG64(uint64_t seed) {
  const auto s = seed_sequence_state(seed);
  // pcg64_set_seed: initstate = (s[0] << 64) | s[1]; initseq = (s[2] << 64) | s[3].
  const u128 initstate = (u128{s[0]} << 64) | u128{s[1]};
  const u128 initseq = (u128{s[2]} << 64) | u128{s[3]};
  state_ = 0;
  inc_ = (initseq << 1) | 1;
  step();
  state_ += initstate;
  step();
}

uint64_t NumpyPCG64::next_uint64() {
  step();
  const uint64_t hi = static_cast<uint64_t>(state_ >> 64);
  const uint64_t lo = static_cast<uint64_t>(state_);
  const uint64_t x = hi ^ lo;
  const unsigned rot = static_cast<unsigned>(hi >> 58);
  return (x >> rot) | (x << ((64 - rot) & 63));
}

uint32_t NumpyPCG64::next_uint32() {
  if (has_uint32_) {
    has_uint32_ = false;
    return uinteger_;
  }
  const uint64_t next = next_uint64();
  has_uint32_ = true;
  uinteger_ = static_cast<uint32_t>(next >> 32);
  return static_cast<uint32_t>(next & 0xffffffffU);
}

double NumpyPCG64::next_double() {
  return static_cast<double>(next_uint64() >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t NumpyPCG64::interval(uint64_t max) {
  // numpy/random/src/distributions/distributions.c random_interval: mask rejection sampling.
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    while ((value = (next_uint64() & mask)) > max) {
    }
  }
  return value;
}

std::vector<int64_t> numpy_permutation(uint64_t seed, int64_t n) {
  QF_ASSERT(n >= 0, "permutation size must be non-negative");
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[static_cast<size_t>(i)] = i;
  NumpyPCG64 rng(seed);
  // Generator.shuffle on a 1-d array (_shuffle_raw / _shuffle_int):
  // for i in reversed(range(1, n)): j = random_interval(i); swap(i, j).
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<size_t>(rng.interval(static_cast<uint64_t>(i)));
    std::swap(perm[static_cast<size_t>(i)], perm[j]);
  }
  return perm;
}

}  // namespace qf::calib
