// Compiled with AVX-512 (F, BW, VL, BF16) enabled; called only after fused_attention_available()
// checked the CPU at run time.
#include "model/attention_fused.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <ATen/Functions.h>
#include <ATen/Parallel.h>

namespace qf::model {
namespace {

constexpr int64_t kRows = 4;        // query rows computed together (share every K and V load)
constexpr int64_t kRowsPerTask = 32;  // query rows of one head per parallel task

// e^x for x <= 0 (softmax arguments), fp32, about 1 ulp: 2^n * p(r) with r = x - n ln2 in [-ln2/2, ln2/2].
__m512 exp_nonpositive(__m512 x) {
  // Below -87.3 e^x is under fp32's normal range: 0, as e^-inf (the masked keys) must be.
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_GE_OQ);
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(normal, _mm512_scalef_ps(p, n));
}

// Largest and sum of the 16 lanes (through memory: GCC 12's _mm512_reduce_* trip -Wuninitialized).
float lanes_max(__m512 v) {
  alignas(64) float x[16];
  _mm512_store_ps(x, v);
  float m = x[0];
  for (int i = 1; i < 16; ++i) m = std::max(m, x[i]);
  return m;
}

float lanes_sum(__m512 v) {
  alignas(64) float x[16];
  _mm512_store_ps(x, v);
  float s = 0.0f;
  for (float f : x) s += f;
  return s;
}

// Scores of keys past row `row`'s own position become -inf (the tile starts at key `first_key`).
__m512 mask_future(__m512 s, int64_t row, int64_t first_key) {
  const int64_t visible = row + 1 - first_key;
  if (visible >= 16) return s;
  const __mmask16 keep = visible <= 0 ? 0 : static_cast<__mmask16>((1u << visible) - 1);
  return _mm512_mask_blend_ps(keep, _mm512_set1_ps(-std::numeric_limits<float>::infinity()), s);
}

// Softmax numerators of one row of scores in place (e^(s - max), 0 for masked keys); returns 1 / their sum.
__m512 exp_row(float* s, int64_t tiles) {
  __m512 m = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t tile = 0; tile < tiles; ++tile) m = _mm512_max_ps(m, _mm512_loadu_ps(s + tile * 16));
  const __m512 max = _mm512_set1_ps(lanes_max(m));
  __m512 sum = _mm512_setzero_ps();
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(s + tile * 16), max));
    _mm512_storeu_ps(s + tile * 16, e);
    sum = _mm512_add_ps(sum, e);
  }
  return _mm512_set1_ps(1.0f / lanes_sum(sum));
}

// fp32 -> bf16 (round to nearest even, as ATen rounds) -> fp32.
__m512 round_bf16(__m512 x) {
  const __m256i h = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// K of one (batch, kv head) as pairs along the head dimension: kp[(p * tpad + n) * 2 + e] = K[n, 2p + e],
// so one 512-bit load holds dimension pair p of 16 consecutive keys (the dpbf16 operand layout).
void pack_keys(const uint16_t* k, int64_t row_stride, int64_t t, int64_t tpad, int64_t d, uint16_t* kp) {
  std::memset(kp, 0, sizeof(uint16_t) * static_cast<size_t>(d * tpad));
  for (int64_t n = 0; n < t; ++n)
    for (int64_t p = 0; p < d / 2; ++p) {
      kp[(p * tpad + n) * 2] = k[n * row_stride + 2 * p];
      kp[(p * tpad + n) * 2 + 1] = k[n * row_stride + 2 * p + 1];
    }
}

// V as pairs along the keys: vp[(q * d + c) * 2 + e] = V[2q + e, c] (zero past the last key).
void pack_values(const uint16_t* v, int64_t row_stride, int64_t t, int64_t d, uint16_t* vp) {
  const int64_t pairs = (t + 1) / 2;
  for (int64_t q = 0; q < pairs; ++q)
    for (int64_t c = 0; c < d; ++c) {
      vp[(q * d + c) * 2] = v[(2 * q) * row_stride + c];
      vp[(q * d + c) * 2 + 1] = 2 * q + 1 < t ? v[(2 * q + 1) * row_stride + c] : uint16_t{0};
    }
}

struct Head {
  const uint16_t* q;  // row i at q + i * q_stride
  int64_t q_stride;
  const uint16_t* kp;
  const uint16_t* vp;
  uint16_t* out;  // row i at out + i * out_stride
  int64_t out_stride;
};

// Rows [i0, i0 + rows) of one head, rows <= kRows. `scores` holds kRows x tpad floats, `probs`
// kRows x (tpad + 2) bf16. The inner loops always run kRows rows (rows past `rows` repeat the last
// one and are never stored), so the compiler can keep the accumulators in registers (all of them
// up to head size 64; P.V at 128 needs more than AVX-512's 32 and spills some); a loop bound known
// only at run time left them in memory, a load and a store around each dpbf16.
template <int64_t D>
void attend_rows(const Head& h, int64_t i0, int64_t rows, int64_t tpad, float scale, float* scores, uint16_t* probs) {
  const int64_t len = i0 + rows;                 // keys any of these rows can see
  const int64_t tiles = (len + 15) / 16;
  const uint16_t* qrow[kRows];
  for (int64_t r = 0; r < kRows; ++r) qrow[r] = h.q + (i0 + std::min(r, rows - 1)) * h.q_stride;
  // 1. scores = bf16(scale * Q.K^T), masked beyond each row's own position. Two key tiles at a
  // time: 2 x kRows independent chains cover dpbf16's latency (kRows alone did not).
  for (int64_t tile = 0; tile < tiles; tile += 2) {
    const int64_t second = std::min(tile + 1, tiles - 1);  // the last odd tile repeats itself
    __m512 acc0[kRows], acc1[kRows];
    for (int64_t r = 0; r < kRows; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
    for (int64_t p = 0; p < D / 2; ++p) {
      const __m512bh k0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(h.kp + (p * tpad + tile * 16) * 2));
      const __m512bh k1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(h.kp + (p * tpad + second * 16) * 2));
      for (int64_t r = 0; r < kRows; ++r) {
        uint32_t pair;
        std::memcpy(&pair, qrow[r] + 2 * p, 4);
        const __m512bh qq = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair)));
        acc0[r] = _mm512_dpbf16_ps(acc0[r], qq, k0);
        acc1[r] = _mm512_dpbf16_ps(acc1[r], qq, k1);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const __m512 s0 = round_bf16(_mm512_mul_ps(acc0[r], _mm512_set1_ps(scale)));
      _mm512_storeu_ps(scores + r * tpad + tile * 16, mask_future(s0, i0 + r, tile * 16));
      if (second == tile) continue;
      const __m512 s1 = round_bf16(_mm512_mul_ps(acc1[r], _mm512_set1_ps(scale)));
      _mm512_storeu_ps(scores + r * tpad + second * 16, mask_future(s1, i0 + r, second * 16));
    }
  }
  // 2. softmax per row in fp32, rounded to bf16 (zero for the masked keys and the padding).
  const int64_t pairs = (len + 1) / 2;
  for (int64_t r = 0; r < rows; ++r) {
    float* s = scores + r * tpad;
    const __m512 inv = exp_row(s, tiles);
    uint16_t* pr = probs + r * (tpad + 2);
    for (int64_t tile = 0; tile < tiles; ++tile) {
      const __m256i b = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(s + tile * 16), inv)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pr + tile * 16), b);
    }
    pr[tiles * 16] = pr[tiles * 16 + 1] = 0;  // the pair past an odd tile end
  }
  // 3. out = P.V, fp32 accumulation over key pairs, rounded once. Rows past `rows` read the last
  // computed row's probabilities.
  const uint16_t* prow[kRows];
  for (int64_t r = 0; r < kRows; ++r) prow[r] = probs + std::min(r, rows - 1) * (tpad + 2);
  __m512 o[kRows][D / 16];
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < D / 16; ++c) o[r][c] = _mm512_setzero_ps();
  for (int64_t q = 0; q < pairs; ++q) {
    __m512bh vv[D / 16];
    for (int64_t c = 0; c < D / 16; ++c)
      vv[c] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(h.vp + (q * D + c * 16) * 2));
    for (int64_t r = 0; r < kRows; ++r) {
      uint32_t pair;
      std::memcpy(&pair, prow[r] + 2 * q, 4);
      const __m512bh pp = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pair)));
      for (int64_t c = 0; c < D / 16; ++c) o[r][c] = _mm512_dpbf16_ps(o[r][c], pp, vv[c]);
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < D / 16; ++c)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(h.out + (i0 + r) * h.out_stride + c * 16),
                          reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(o[r][c])));
}

template <int64_t D>
void attend_head_rows(const Head& h, int64_t i0, int64_t i1, int64_t tpad, float scale) {
  std::vector<float> scores(static_cast<size_t>(kRows * tpad));
  std::vector<uint16_t> probs(static_cast<size_t>(kRows * (tpad + 2)));
  for (int64_t i = i0; i < i1; i += kRows)
    attend_rows<D>(h, i, std::min(kRows, i1 - i), tpad, scale, scores.data(), probs.data());
}

using HeadKernel = void (*)(const Head&, int64_t, int64_t, int64_t, float);

HeadKernel kernel_for(int64_t d) {
  switch (d) {
    case 32: return attend_head_rows<32>;
    case 64: return attend_head_rows<64>;
    case 96: return attend_head_rows<96>;
    case 128: return attend_head_rows<128>;
    default: return nullptr;
  }
}

// ---- fp32: the same row blocks with FMA; K transposed (kp[c * tpad + n] = K[n, c]), V read in place.

void pack_keys_f32(const float* k, int64_t row_stride, int64_t t, int64_t tpad, int64_t d, float* kp) {
  std::memset(kp, 0, sizeof(float) * static_cast<size_t>(d * tpad));
  for (int64_t n = 0; n < t; ++n)
    for (int64_t c = 0; c < d; ++c) kp[c * tpad + n] = k[n * row_stride + c];
}

struct HeadF32 {
  const float* q;
  int64_t q_stride;
  const float* kp;
  const float* v;  // row n at v + n * v_stride
  int64_t v_stride;
  float* out;
  int64_t out_stride;
};

// As attend_rows: every inner loop runs kRows rows, rows past `rows` repeating the last one.
template <int64_t D>
void attend_rows_f32(const HeadF32& h, int64_t i0, int64_t rows, int64_t tpad, float scale, float* scores) {
  const int64_t len = i0 + rows, tiles = (len + 15) / 16;
  const float* qrow[kRows];
  const float* prow[kRows];
  for (int64_t r = 0; r < kRows; ++r) {
    qrow[r] = h.q + (i0 + std::min(r, rows - 1)) * h.q_stride;
    prow[r] = scores + std::min(r, rows - 1) * tpad;
  }
  __m512 acc[kRows];
  for (int64_t tile = 0; tile < tiles; ++tile) {
    for (int64_t r = 0; r < kRows; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t c = 0; c < D; ++c) {
      const __m512 kv = _mm512_loadu_ps(h.kp + c * tpad + tile * 16);
      for (int64_t r = 0; r < kRows; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(qrow[r][c]), kv, acc[r]);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const __m512 s = _mm512_mul_ps(acc[r], _mm512_set1_ps(scale));
      _mm512_storeu_ps(scores + r * tpad + tile * 16, mask_future(s, i0 + r, tile * 16));
    }
  }
  for (int64_t r = 0; r < rows; ++r) {  // softmax in place
    float* s = scores + r * tpad;
    const __m512 inv = exp_row(s, tiles);
    for (int64_t tile = 0; tile < tiles; ++tile) _mm512_storeu_ps(s + tile * 16, _mm512_mul_ps(_mm512_loadu_ps(s + tile * 16), inv));
  }
  __m512 o[kRows][D / 16];
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t c = 0; c < D / 16; ++c) o[r][c] = _mm512_setzero_ps();
  for (int64_t n = 0; n < len; ++n) {
    __m512 vv[D / 16];
    for (int64_t c = 0; c < D / 16; ++c) vv[c] = _mm512_loadu_ps(h.v + n * h.v_stride + c * 16);
    for (int64_t r = 0; r < kRows; ++r) {
      const __m512 p = _mm512_set1_ps(prow[r][n]);
      for (int64_t c = 0; c < D / 16; ++c) o[r][c] = _mm512_fmadd_ps(p, vv[c], o[r][c]);
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < D / 16; ++c) _mm512_storeu_ps(h.out + (i0 + r) * h.out_stride + c * 16, o[r][c]);
}

template <int64_t D>
void attend_head_rows_f32(const HeadF32& h, int64_t i0, int64_t i1, int64_t tpad, float scale) {
  std::vector<float> scores(static_cast<size_t>(kRows * tpad));
  for (int64_t i = i0; i < i1; i += kRows) attend_rows_f32<D>(h, i, std::min(kRows, i1 - i), tpad, scale, scores.data());
}

using HeadKernelF32 = void (*)(const HeadF32&, int64_t, int64_t, int64_t, float);

HeadKernelF32 kernel_for_f32(int64_t d) {
  switch (d) {
    case 32: return attend_head_rows_f32<32>;
    case 64: return attend_head_rows_f32<64>;
    case 96: return attend_head_rows_f32<96>;
    case 128: return attend_head_rows_f32<128>;
    default: return nullptr;
  }
}

// Calls f(batch, head, first row, end row) for every block of rows, in parallel.
template <class F>
void for_each_row_block(int64_t b, int64_t heads, int64_t t, F&& f) {
  const int64_t blocks = (t + kRowsPerTask - 1) / kRowsPerTask;
  at::parallel_for(0, b * heads * blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t block = task % blocks, hh = (task / blocks) % heads, bi = task / (blocks * heads);
      f(bi, hh, block * kRowsPerTask, std::min(t, (block + 1) * kRowsPerTask));
    }
  });
}

at::Tensor fused_f32(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1), g = heads / kv;
  const HeadKernelF32 kernel = kernel_for_f32(d);
  const int64_t tpad = (t + 15) / 16 * 16;
  at::Tensor kp = at::empty({b * kv, d * tpad}, at::kFloat);
  const float *qd = q.data_ptr<float>(), *kd = k.data_ptr<float>(), *vd = v.data_ptr<float>();
  float* kpd = kp.data_ptr<float>();
  at::parallel_for(0, b * kv, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t u = lo; u < hi; ++u)
      pack_keys_f32(kd + (u / kv) * k.stride(0) + (u % kv) * k.stride(1), k.stride(2), t, tpad, d, kpd + u * d * tpad);
  });
  at::Tensor out = at::empty({b, t, heads * d}, q.options());
  float* od = out.data_ptr<float>();
  for_each_row_block(b, heads, t, [&](int64_t bi, int64_t hh, int64_t i0, int64_t i1) {
    const int64_t u = bi * kv + hh / g;
    const HeadF32 h{qd + bi * q.stride(0) + hh * q.stride(1), q.stride(2), kpd + u * d * tpad,
                    vd + bi * v.stride(0) + (hh / g) * v.stride(1), v.stride(2), od + bi * t * heads * d + hh * d, heads * d};
    kernel(h, i0, i1, tpad, static_cast<float>(scale));
  });
  return out;
}

at::Tensor fused_bf16(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  const int64_t b = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), kv = k.size(1), g = heads / kv;
  const HeadKernel kernel = kernel_for(d);
  const int64_t tpad = (t + 15) / 16 * 16;
  // Packed K and V of every (batch, kv head), built in parallel.
  at::Tensor kp = at::empty({b * kv, d * tpad}, at::kShort), vp = at::empty({b * kv, ((tpad + 1) / 2) * d * 2}, at::kShort);
  const auto* qd = reinterpret_cast<const uint16_t*>(q.data_ptr<at::BFloat16>());
  const auto* kd = reinterpret_cast<const uint16_t*>(k.data_ptr<at::BFloat16>());
  const auto* vd = reinterpret_cast<const uint16_t*>(v.data_ptr<at::BFloat16>());
  auto* kpd = reinterpret_cast<uint16_t*>(kp.data_ptr<int16_t>());
  auto* vpd = reinterpret_cast<uint16_t*>(vp.data_ptr<int16_t>());
  at::parallel_for(0, b * kv, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t u = lo; u < hi; ++u) {
      const int64_t bi = u / kv, j = u % kv;
      pack_keys(kd + bi * k.stride(0) + j * k.stride(1), k.stride(2), t, tpad, d, kpd + u * d * tpad);
      pack_values(vd + bi * v.stride(0) + j * v.stride(1), v.stride(2), t, d, vpd + u * vp.size(1));
    }
  });
  at::Tensor out = at::empty({b, t, heads * d}, q.options());
  auto* od = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
  // Tasks: (batch, head, block of rows); later rows see more keys, so blocks are small and many.
  for_each_row_block(b, heads, t, [&](int64_t bi, int64_t hh, int64_t i0, int64_t i1) {
    const int64_t u = bi * kv + hh / g;
    const Head h{qd + bi * q.stride(0) + hh * q.stride(1), q.stride(2), kpd + u * d * tpad, vpd + u * vp.size(1),
                 od + bi * t * heads * d + hh * d, heads * d};
    kernel(h, i0, i1, tpad, static_cast<float>(scale));
  });
  return out;
}

}  // namespace

bool fused_attention_available(at::ScalarType dtype, int64_t head_dim) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl");
  static const bool bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
  static const bool allowed = [] {
    const char* e = std::getenv("QUANTFORGE_FUSED_ATTENTION");
    return !(e && std::string(e) == "0");
  }();
  if (!allowed) return false;
  if (dtype == at::kBFloat16) return bf16 && kernel_for(head_dim) != nullptr;
  if (dtype == at::kFloat) return avx512 && kernel_for_f32(head_dim) != nullptr;
  return false;
}

at::Tensor fused_causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type() && q.stride(3) == 1 &&
                  k.stride(3) == 1 && v.stride(3) == 1 && fused_attention_available(q.scalar_type(), q.size(3)),
              "fused attention: unsupported inputs");
  if (q.scalar_type() == at::kFloat) return fused_f32(q, k, v, scale);
  return fused_bf16(q, k, v, scale);
}

}  // namespace qf::model
