// One row of a softmax cross-entropy, shared by SoftmaxCrossEntropy (over given logits) and
// DotSoftmaxCrossEntropy (over logits it computes block by block): vectorised exps for x <= 0 (one
// within about 1 ulp, one within a few for the metrics), and the three passes that turn a row of
// logits into its loss and D = softmax - onehot(label).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

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

// Row x of c logits (plus corr[j] when kCorr; columns whose cand[j] equals the label column's
// left out when kHits) with label `lab`: writes D = softmax(z) - onehot(lab) into e (0 in the
// columns left out; e may be x itself) and returns the unweighted loss logsumexp(z) - z[lab].
// Three passes: the row maximum; exp(z - max) and its sum; the scaling by 1 / sum, in L1.
template <bool kCorr, bool kHits>
inline float softmax_row(const float* x, const float* corr, const int32_t* cand, int32_t lab, int64_t c, float* e) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int32_t hit = kHits ? cand[lab] : 0;
  const float z_lab = x[lab] + (kCorr ? corr[lab] : 0.0f);
  // Pass 1: the row maximum over the kept columns (the label column is always kept).
  float m = z_lab;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < c; ++j) {
    float z = x[j];
    if constexpr (kCorr) z += corr[j];
    if constexpr (kHits) z = cand[j] == hit ? kNegInf : z;
    m = z > m ? z : m;
  }
  // Pass 2: e = exp(z - m) and its sum; accidental hits (label column included) get 0 here, and
  // the label column is put back after the loop.
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < c; ++j) {
    float z = x[j];
    if constexpr (kCorr) z += corr[j];
    float v = exp_nonpositive(z - m);
    if constexpr (kHits) v = cand[j] == hit ? 0.0f : v;
    e[j] = v;
    s += v;
  }
  if (kHits) {
    e[lab] = exp_nonpositive(z_lab - m);
    s += e[lab];
  }
  // Pass 3, in L1: D = e / sum - onehot(label).
  const float inv = 1.0f / s;
#pragma omp simd
  for (int64_t j = 0; j < c; ++j) e[j] = inv * e[j];
  e[lab] -= 1.0f;
  return __builtin_logf(s) + m - z_lab;
}

}  // namespace
}  // namespace dagrad
