// softmax_tiles.hpp's block work, compiled once per instruction set: meson builds this file three
// times with -march=x86-64-v4 / x86-64-v3 / x86-64 and DAGRAD_TILE_ISA = avx512 / avx2 / sse2,
// DAGRAD_TILE_WIDTH = 16 / 8 / 4 floats per vector. Everything here but the one entry point has
// internal linkage, and nothing from the standard library is instantiated, so that no function
// compiled for a wider instruction set can be merged by the linker into callers built for a
// narrower one (scripts/check_tile_symbols.sh, the suite's "tile symbols" test, checks the symbols).
//
// The products are register tiles over GCC vector types (one zmm, ymm or xmm each), with G =
// f·E - k·onehot, E the rows' exps and f_i = k_i / Σ_j E_ij (softmax_block_exps):
//   logits  S[i, j]  = scale·Σ_k q[i, k]·ct[k, j]          R rows x 2 vectors of columns, k innermost
//   dq      dq[i, :] = scale·f_i·Σ_j E[i, j]·c[j, :]        R rows x up to 2 vectors of the width
//   dc      dc[j, :] += scale·Σ_i E[i, j]·(f_i·q[i, :])     R candidates x up to 2 vectors of the width
// and the onehot's part, -scale·k_i·c[label_i] and -scale·k_i·q_i, added after them.
// R = 8 with 32 vector registers (AVX-512), 6 with 16 (AVX2: 12 accumulators, two loaded operands
// and a broadcast; 5% faster than 4 on the block of softmax_tiles.hpp), 4 with SSE2 (no FMA: its
// products need registers of their own): the accumulators, the loaded operands and a broadcast
// fit the register file.
#include <cstddef>
#include <cstdint>

#include "ops/kernels/softmax_block_rows.hpp"
#include "ops/kernels/softmax_tiles.hpp"

#ifndef DAGRAD_TILE_ISA
#error "build this file with DAGRAD_TILE_ISA and DAGRAD_TILE_WIDTH (ops/kernels/meson.build)"
#endif
#define DAGRAD_TILE_CAT2(a, b) a##b
#define DAGRAD_TILE_CAT(a, b) DAGRAD_TILE_CAT2(a, b)

namespace dagrad::tiles {
namespace {

constexpr int W = DAGRAD_TILE_WIDTH;
constexpr int R = W == 16 ? 8 : W == 8 ? 6 : 4;
static_assert(kColumnMultiple % (2 * W) == 0 && kWidthMultiple % W == 0);
typedef float V __attribute__((vector_size(W * sizeof(float))));

inline V load(const float* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V v) { __builtin_memcpy(p, &v, sizeof v); }
// x - 0 is x for every x, so this folds to one broadcast (x + 0 is not x for x = -0, and would
// cost an addition).
inline V splat(float x) { return x - V{}; }

// S[0..kR, j..j+2W) = scale·q[0..kR, :]·ct[:, j..j+2W), ct pointing at column j of its panel
// (rows kColumnMultiple floats apart)
template <int kR>
inline void logits_tile(const float* q, int64_t dp, const float* ct, int64_t ls, int64_t j, float scale, float* s) {
  V a0[kR], a1[kR];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r) a0[r] = a1[r] = V{};
  for (int64_t k = 0; k < dp; ++k) {
    const V c0 = load(ct + k * kColumnMultiple), c1 = load(ct + k * kColumnMultiple + W);
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const V x = splat(q[r * dp + k]);
      a0[r] += x * c0;
      a1[r] += x * c1;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r) {
    store(s + r * ls + j, a0[r] * scale);
    store(s + r * ls + j + W, a1[r] * scale);
  }
}

// dq[0..kR, v..v+kN·W) = rs[r]·E[0..kR, 0..n)·c[0..n, v..v+kN·W), a scale per row
template <int kR, int kN>
inline void dq_tile(const float* g, int64_t ls, const float* c, int64_t n, int64_t dp, int64_t v, const float* rs, float* dq) {
  V a[kR][kN];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) a[r][u] = V{};
  for (int64_t j = 0; j < n; ++j) {
    V cv[kN];
    for (int u = 0; u < kN; ++u) cv[u] = load(c + j * dp + v + u * W);
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const V x = splat(g[r * ls + j]);
      for (int u = 0; u < kN; ++u) a[r][u] += x * cv[u];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) store(dq + r * dp + v + u * W, a[r][u] * rs[r]);
}

// dc[j..j+kR, v..v+kN·W) += scale·E[0..rows, j..j+kR)ᵀ·q[0..rows, v..v+kN·W)
template <int kR, int kN>
inline void dc_tile(const float* g, int64_t ls, int64_t rows, const float* q, int64_t dp, int64_t j, int64_t v, float scale,
                    float* dc) {
  V a[kR][kN];
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) a[r][u] = V{};
  for (int64_t i = 0; i < rows; ++i) {
    V qv[kN];
    for (int u = 0; u < kN; ++u) qv[u] = load(q + i * dp + v + u * W);
    const float* gi = g + i * ls + j;
#pragma GCC unroll 8
    for (int r = 0; r < kR; ++r) {
      const V x = splat(gi[r]);
      for (int u = 0; u < kN; ++u) a[r][u] += x * qv[u];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kR; ++r)
    for (int u = 0; u < kN; ++u) {
      float* p = dc + (j + r) * dp + v + u * W;
      store(p, load(p) + a[r][u] * scale);
    }
}

// The width in vectors, two at a time and then one.
template <int kR, class F>
inline void over_width(int64_t dp, F&& f) {
  int64_t v = 0;
  for (; v + 2 * W <= dp; v += 2 * W) f.template operator()<kR, 2>(v);
  if (v < dp) f.template operator()<kR, 1>(v);
}

void logits(const SoftmaxBlock& b) {
  for (int64_t j = 0; j < b.np; j += 2 * W) {
    int64_t i = 0;
    const float* panel = b.ct + j / kColumnMultiple * kColumnMultiple * b.dp + j % kColumnMultiple;
    for (; i + R <= b.rows; i += R) logits_tile<R>(b.q + i * b.dp, b.dp, panel, b.ls, j, b.scale, b.s + i * b.ls);
    for (; i < b.rows; ++i) logits_tile<1>(b.q + i * b.dp, b.dp, panel, b.ls, j, b.scale, b.s + i * b.ls);
  }
}

// G = f·E - k·onehot (softmax_block_exps), E the exps in b.s: dq = scale·G·c takes f per row in
// the products' last multiplication, and the onehot's part after them; dc = scale·Gᵀ·q reads the
// block's q rows scaled by f (fq, [rows, dp]) and takes the onehot's part after. Either way no pass
// over the block's logits divides them by their sums.
void grad_q(const SoftmaxBlock& b, const float* f, float* rs) {
  for (int64_t i = 0; i < b.rows; ++i) rs[i] = b.scale * f[i];
  auto run = [&]<int kR>(int64_t i) {
    over_width<kR>(b.dp, [&]<int kR2, int kN>(int64_t v) {
      dq_tile<kR2, kN>(b.s + i * b.ls, b.ls, b.c, b.n, b.dp, v, rs + i, b.dq + i * b.dp);
    });
  };
  int64_t i = 0;
  for (; i + R <= b.rows; i += R) run.template operator()<R>(i);
  for (; i < b.rows; ++i) run.template operator()<1>(i);
}

void grad_c(const SoftmaxBlock& b, const float* f, float* fq) {
  for (int64_t i = 0; i < b.rows; ++i) {
    const float fi = f[i];
    const float* qi = b.q + i * b.dp;
    float* o = fq + i * b.dp;
#pragma omp simd
    for (int64_t v = 0; v < b.dp; ++v) o[v] = fi * qi[v];
  }
  auto run = [&]<int kR>(int64_t j) {
    over_width<kR>(b.dp, [&]<int kR2, int kN>(int64_t v) {
      dc_tile<kR2, kN>(b.s, b.ls, b.rows, fq, b.dp, j, v, b.scale, b.dc);
    });
  };
  int64_t j = 0;
  for (; j + R <= b.n; j += R) run.template operator()<R>(j);
  for (; j < b.n; ++j) run.template operator()<1>(j);
}

}  // namespace

void DAGRAD_TILE_CAT(softmax_block_, DAGRAD_TILE_ISA)(const SoftmaxBlock& b) {
  logits(b);
  // b.work: f [rows], then the row scales of dq [rows], then fq [rows, dp].
  float* f = b.work;
  softmax_block_exps(b, f);
  if (!b.dq) return;
  grad_q(b, f, f + b.rows);
  grad_c(b, f, f + 2 * b.rows);
  onehot_part(b);
}

}  // namespace dagrad::tiles
