// softmax_tiles.hpp's block work with the three products in bf16 and f32 accumulation
// (AVX512-BF16's vdpbf16ps: each 32-bit lane multiplies a pair of bf16 and adds both products to
// an f32 accumulator, twice the multiply-adds of an f32 FMA). Built with -march=x86-64-v4
// -mavx512bf16 and called only where the CPU has AVX512-BF16. As in softmax_tiles_isa.cpp,
// everything but the entry point has internal linkage.
//
// The operands go in as pairs along each product's summed index (Bf16Operands): q and cᵀ along the
// width for the logits, c along the candidates for dq, q along the rows for dc. The softmax rows
// are computed in f32 from the f32 accumulators; k·softmax is rounded to bf16 twice per block, once
// as row pairs (for dq) and once as pairs of rows (for dc), and the onehot's part of G is applied in
// f32 (see below why).
#include <immintrin.h>

#include <cstdint>

#include "ops/kernels/softmax_block_rows.hpp"
#include "ops/kernels/softmax_tiles.hpp"

namespace dagrad::tiles {
namespace {

constexpr int W = 16;
constexpr int R = 8;

inline __m512bh as_bh(__m512i v) { return (__m512bh)v; }
inline __m512bh load_bh(const uint16_t* p) { return as_bh(_mm512_loadu_si512(p)); }
inline __m512bh splat_pair(uint32_t pair) { return as_bh(_mm512_set1_epi32(static_cast<int>(pair))); }

// Round to nearest even, as vcvtne2ps2bf16 does (the values here are finite).
inline uint32_t bf16_bits(float x) {
  const uint32_t u = __builtin_bit_cast(uint32_t, x);
  return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

// S[0..kR, j..j+32) = scale·Σ_kp q2[r, kp]·panel[kp, jj] (pairs along the width)
template <int kR>
inline void logits_tile(const uint32_t* q2, int64_t dph, const uint16_t* panel, int64_t ls, int64_t j, float scale,
                        float* s) {
  __m512 a0[kR], a1[kR];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r) a0[r] = a1[r] = _mm512_setzero_ps();
  for (int64_t kp = 0; kp < dph; ++kp) {
    const __m512bh c0 = load_bh(panel + kp * 64), c1 = load_bh(panel + kp * 64 + 32);
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const __m512bh x = splat_pair(q2[r * dph + kp]);
      a0[r] = _mm512_dpbf16_ps(a0[r], x, c0);
      a1[r] = _mm512_dpbf16_ps(a1[r], x, c1);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r) {
    _mm512_storeu_ps(s + r * ls + j, _mm512_mul_ps(a0[r], sc));
    _mm512_storeu_ps(s + r * ls + j + W, _mm512_mul_ps(a1[r], sc));
  }
}

// dq[0..kR, v..v+kN·16) = scale·Σ_jp g2[r, jp]·cj[jp, v..] (pairs along the candidates)
template <int kR, int kN>
inline void dq_tile(const uint32_t* g2, int64_t lg, const uint16_t* cj, int64_t nh, int64_t dp, int64_t v, float scale,
                    float* dq) {
  __m512 a[kR][kN];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) a[r][u] = _mm512_setzero_ps();
  for (int64_t jp = 0; jp < nh; ++jp) {
    __m512bh cv[kN];
    for (int u = 0; u < kN; ++u) cv[u] = load_bh(cj + (jp * dp + v + u * W) * 2);
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const __m512bh x = splat_pair(g2[r * lg + jp]);
      for (int u = 0; u < kN; ++u) a[r][u] = _mm512_dpbf16_ps(a[r][u], x, cv[u]);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) _mm512_storeu_ps(dq + r * dp + v + u * W, _mm512_mul_ps(a[r][u], sc));
}

// dc[j..j+kR, v..v+kN·16) += scale·Σ_ip gt[ip, j+r]·qi[ip, v..] (pairs of rows)
template <int kR, int kN>
inline void dc_tile(const uint32_t* gt, int64_t np, int64_t rh, const uint16_t* qi, int64_t dp, int64_t j, int64_t v,
                    float scale, float* dc) {
  __m512 a[kR][kN];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) a[r][u] = _mm512_setzero_ps();
  for (int64_t ip = 0; ip < rh; ++ip) {
    __m512bh qv[kN];
    for (int u = 0; u < kN; ++u) qv[u] = load_bh(qi + (ip * dp + v + u * W) * 2);
    const uint32_t* gi = gt + ip * np + j;
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const __m512bh x = splat_pair(gi[r]);
      for (int u = 0; u < kN; ++u) a[r][u] = _mm512_dpbf16_ps(a[r][u], x, qv[u]);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) {
      float* p = dc + (j + r) * dp + v + u * W;
      _mm512_storeu_ps(p, _mm512_fmadd_ps(a[r][u], sc, _mm512_loadu_ps(p)));
    }
}

template <int kR, class F>
inline void over_width(int64_t dp, F&& f) {
  int64_t v = 0;
  for (; v + 2 * W <= dp; v += 2 * W) f.template operator()<kR, 2>(v);
  if (v < dp) f.template operator()<kR, 1>(v);
}

}  // namespace

void softmax_block_avx512bf16(const SoftmaxBlock& b) {
  const Bf16Operands& o = *b.bf16;
  const int64_t dph = b.dp / 2, nh = b.np / 2, rh = (b.rows + 1) / 2;
  // The logits, panel by panel.
  for (int64_t j = 0; j < b.np; j += 2 * W) {
    const uint16_t* panel = o.ct + j / kColumnMultiple * kColumnMultiple * b.dp;
    int64_t i = 0;
    for (; i + R <= b.rows; i += R) logits_tile<R>(o.q + i * dph, dph, panel, b.ls, j, b.scale, b.s + i * b.ls);
    for (; i < b.rows; ++i) logits_tile<1>(o.q + i * dph, dph, panel, b.ls, j, b.scale, b.s + i * b.ls);
  }
  // The products below take k·softmax only, and the onehot's part (-k at the label) is added in
  // f32 after them: rounded to bf16, k·(p - 1) at the label would leave every row of G summing to
  // about ±k·2^-9 instead of 0, a bias along the mean candidate (and query) that does not average
  // out, and which made training drift (the loss rising after a few epochs on MovieLens). Columns
  // n..np of a row hold zeros (logits against zero padding), which the pairs below may take in:
  // they meet zero padding of c.
  softmax_block_rows(b, true);
  if (!b.dq) return;
  // G as pairs along the candidates [rows, np/2] and as pairs of rows [rh, np].
  uint32_t* g2 = o.g;
  uint32_t* gt = o.g + b.rows * nh;
  for (int64_t i = 0; i < b.rows; ++i) {
    const float* row = b.s + i * b.ls;
    uint32_t* out = g2 + i * nh;
#pragma omp simd
    for (int64_t l = 0; l < nh; ++l) out[l] = bf16_bits(row[2 * l]) | bf16_bits(row[2 * l + 1]) << 16;
  }
  for (int64_t ip = 0; ip < rh; ++ip) {
    const float* r0 = b.s + 2 * ip * b.ls;
    uint32_t* out = gt + ip * b.np;
    if (2 * ip + 1 < b.rows) {
      const float* r1 = r0 + b.ls;
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) out[j] = bf16_bits(r0[j]) | bf16_bits(r1[j]) << 16;
    } else {
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) out[j] = bf16_bits(r0[j]);
    }
  }
  // dq
  auto run_q = [&]<int kR>(int64_t i) {
    over_width<kR>(b.dp, [&]<int kR2, int kN>(int64_t v) {
      dq_tile<kR2, kN>(g2 + i * nh, nh, o.cj, nh, b.dp, v, b.scale, b.dq + i * b.dp);
    });
  };
  int64_t i = 0;
  for (; i + R <= b.rows; i += R) run_q.template operator()<R>(i);
  for (; i < b.rows; ++i) run_q.template operator()<1>(i);
  // dc
  auto run_c = [&]<int kR>(int64_t j) {
    over_width<kR>(b.dp, [&]<int kR2, int kN>(int64_t v) {
      dc_tile<kR2, kN>(gt, b.np, rh, o.qi, b.dp, j, v, b.scale, b.dc);
    });
  };
  int64_t j = 0;
  for (; j + R <= b.n; j += R) run_c.template operator()<R>(j);
  for (; j < b.n; ++j) run_c.template operator()<1>(j);
  // The onehot's part, in f32.
  onehot_part(b);
}

}  // namespace dagrad::tiles
