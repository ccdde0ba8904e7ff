// One row of a softmax cross-entropy, shared by SoftmaxCrossEntropy (over given logits) and
// DotSoftmaxCrossEntropy (over logits it computes block by block): vectorised exps for x <= 0 (one
// within about 1 ulp, one within a few for the metrics), and the three passes that turn a row of
// logits into its loss and D = softmax - onehot(label).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dagrad {
// Internal linkage: ops/kernels/softmax_tiles_isa.cpp compiles these once per instruction set, and
// an inline function with external linkage would let the linker keep one ISA's copy for every
// caller (an AVX-512 body run on an AVX2 machine).
namespace {

// exp(x) = 2^n·exp(r) with x = n·ln2 + r, |r| <= ln2/2 (Cody-Waite, in two steps): returns r and
// sets e to n·2^23, which added to a float's bits multiplies it by 2^n (exactly, while the result is
// a normal number). t = x·log2(e) + 1.5·2^23 rounds n into t's low bits, and 1.5·2^23's own bits
// shifted left by 23 leave 0 in 32 bits: the shift alone is n·2^23.
inline float exp_reduce(float x, uint32_t& e) {
  constexpr float kMagic = 12582912.0f;  // 1.5·2^23
  const float t = x * 1.44269504088896341f + kMagic;
  const float n = t - kMagic;
  e = __builtin_bit_cast(uint32_t, t) << 23;
  return (x - n * 0.693359375f) - n * -2.12194440e-4f;
}
inline float times_2n(float p, uint32_t e) { return __builtin_bit_cast(float, __builtin_bit_cast(uint32_t, p) + e); }

// exp(x) for x <= 0, written so that GCC vectorises it (no libm call): exp(r) by Cephes' degree-7
// polynomial (about 1 ulp), times 2^n through the exponent bits. Below -87 the result (< 1.7e-38)
// is flushed to 0; above it p·2^n is a normal number (n = -126 only for r > 0.34, where p > 1).
inline float exp_nonpositive(float x) {
  uint32_t e;
  const float r = exp_reduce(x, e);
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return x < -87.0f ? 0.0f : times_2n(p, e);
}

// exp(x) for x <= 0 (or above 0 by a rounding) where a few ulp will do: a degree-5 polynomial
// (fitted for the least largest relative error on [-ln2/2, ln2/2]; in f32 within 1.9e-7 = 3.1 ulp
// of exp(x) for every float in [-87, 0], against exp_nonpositive's 1.4 ulp), and x clamped at -87
// (exp(-87) = 1.6e-38, still a normal float) in place of the flush to 0. Vectorised, 12 operations
// where exp_nonpositive and a clamp of x to 0 take 16 (metrics::InBatchSoftmaxLoss's terms).
inline float exp_few_ulp(float x) {
  x = x < -87.0f ? -87.0f : x;
  uint32_t e;
  const float r = exp_reduce(x, e);
  float p = 0.008312472142279148f;
  p = p * r + 0.04189007356762886f;
  p = p * r + 0.16667114198207855f;
  p = p * r + 0.499992311000824f;
  p = p * (r * r) + r + 1.0f;
  return times_2n(p, e);
}

#if defined(__AVX512F__)
// exp_nonpositive on 16 floats at once, for AVX-512 builds: the same reduction and polynomial, but
// n rounded by vrndscaleps and p·2^n by vscalefps (no exponent-bit arithmetic), and the flush to 0
// below -87 as a zeroing mask (14 instructions, no integer ones): 25% less time than the portable
// form over rows of logits (AMD EPYC, AVX-512). NaN stays NaN (the mask's compare is unordered).
inline __m512 exp_nonpositive16(__m512 x) {
  // (The masked forms: GCC 12 warns about the undefined source the unmasked intrinsic passes.)
  const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
  const __m512 n = _mm512_mask_roundscale_ps(t, __mmask16(0xFFFF), t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
  const __mmask16 kept = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_NLT_UQ);
  return _mm512_maskz_scalef_ps(kept, p, n);
}
#endif

// The first two passes of a softmax row: row x of c logits (plus corr[j] when kCorr; columns whose
// cand[j] equals the label column's left out when kHits) with label `lab`. Writes e = exp(z - m)
// into e (0 in the columns left out; e may be x itself), m the kept columns' maximum, and returns
// the sum of e. The loss is log(sum) + m - z[lab], and D = softmax - onehot is e / sum - onehot.
template <bool kCorr, bool kHits>
inline float softmax_exps(const float* x, const float* corr, const int32_t* cand, int32_t lab, int64_t c, float* e,
                          float& m) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int32_t hit = kHits ? cand[lab] : 0;
  const float z_lab = x[lab] + (kCorr ? corr[lab] : 0.0f);
  // Pass 1: the row maximum over the kept columns (the label column is always kept).
  float mx = z_lab;
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < c; ++j) {
    float z = x[j];
    if constexpr (kCorr) z += corr[j];
    if constexpr (kHits) z = cand[j] == hit ? kNegInf : z;
    mx = z > mx ? z : mx;
  }
  m = mx;
  // Pass 2: e = exp(z - m) and its sum; accidental hits (label column included) get 0 here, and
  // the label column is put back after the loop.
  float s = 0.0f;
#if defined(__AVX512F__)
  {
    const __m512 mv = _mm512_set1_ps(mx);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < c; j += 16) {
      const __mmask16 in = c - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (c - j)) - 1);
      __m512 z = _mm512_maskz_loadu_ps(in, x + j);
      if constexpr (kCorr) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(in, corr + j));
      __mmask16 keep = in;
      if constexpr (kHits)
        keep = _mm512_mask_cmpneq_epi32_mask(in, _mm512_maskz_loadu_epi32(in, cand + j), _mm512_set1_epi32(hit));
      const __m512 v = _mm512_maskz_mov_ps(keep, exp_nonpositive16(_mm512_sub_ps(z, mv)));
      _mm512_mask_storeu_ps(e + j, in, v);
      acc = _mm512_add_ps(acc, v);
    }
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, acc);
    for (float v : lanes) s += v;
  }
#else
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < c; ++j) {
    float z = x[j];
    if constexpr (kCorr) z += corr[j];
    float v = exp_nonpositive(z - mx);
    if constexpr (kHits) v = cand[j] == hit ? 0.0f : v;
    e[j] = v;
    s += v;
  }
#endif
  if (kHits) {
    e[lab] = exp_nonpositive(z_lab - mx);
    s += e[lab];
  }
  return s;
}

// Row x of c logits as for softmax_exps: writes D = softmax(z) - onehot(lab) into e (0 in the
// columns left out; e may be x itself) and returns the unweighted loss logsumexp(z) - z[lab].
// Three passes: the row maximum; exp(z - max) and its sum; the scaling by 1 / sum, in L1.
template <bool kCorr, bool kHits>
inline float softmax_row(const float* x, const float* corr, const int32_t* cand, int32_t lab, int64_t c, float* e) {
  const float z_lab = x[lab] + (kCorr ? corr[lab] : 0.0f);
  float m;
  const float s = softmax_exps<kCorr, kHits>(x, corr, cand, lab, c, e, m);
  // Pass 3, in L1: D = e / sum - onehot(label).
  const float inv = 1.0f / s;
#pragma omp simd
  for (int64_t j = 0; j < c; ++j) e[j] = inv * e[j];
  e[lab] -= 1.0f;
  return __builtin_logf(s) + m - z_lab;
}

}  // namespace
}  // namespace dagrad
