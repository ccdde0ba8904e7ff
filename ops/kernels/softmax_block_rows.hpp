// The row work of a fused softmax block, shared by softmax_tiles_isa.cpp and softmax_tiles_bf16.cpp
// (and compiled in each for its instruction set, hence internal linkage).
//
// softmax_block_rows (the bf16 loops): each row of logits in b.s becomes its softmax - onehot
// (softmax_row), the row loss is kept, and with gradients the row is scaled to G = k·D (k =
// w·dout) and added into the column sums b.dcorr (when given). `onehot_back` adds k back at the
// label afterwards, leaving k·softmax for callers that apply the onehot's part apart.
//
// softmax_block_exps (the f32 loops): each row of logits becomes its exps e = exp(z - max) only
// (softmax_exps), and f[i] = k_i / Σ_j e_ij is kept, so that G = f·e - k·onehot without a pass
// over the row for the division: the products apply f per row instead.
//
// onehot_part (both): the -k·onehot part of G applied to dq and dc after the products.
#pragma once

#include <cstdint>

#include "ops/kernels/softmax_row.hpp"
#include "ops/kernels/softmax_tiles.hpp"

namespace dagrad::tiles {
namespace {

// The row weight k_i = w_i·dout_i of G.
inline float row_weight(const SoftmaxBlock& b, int64_t i) { return (b.w ? b.w[i] : 1.0f) * (b.dout ? b.dout[i] : 1.0f); }

inline void softmax_block_rows(const SoftmaxBlock& b, bool onehot_back) {
  const bool corr = b.corr != nullptr, hits = b.cand != nullptr;
  for (int64_t i = 0; i < b.rows; ++i) {
    float* row = b.s + i * b.ls;
    const int32_t lab = b.labels[i];
    float l;
    if (corr) l = hits ? softmax_row<true, true>(row, b.corr, b.cand, lab, b.n, row)
                       : softmax_row<true, false>(row, b.corr, b.cand, lab, b.n, row);
    else l = hits ? softmax_row<false, true>(row, b.corr, b.cand, lab, b.n, row)
                  : softmax_row<false, false>(row, b.corr, b.cand, lab, b.n, row);
    if (b.loss) b.loss[i] = l;
    if (!b.dq) continue;
    // G = k·D; the padding columns beyond n stay out of every sum.
    const float k = row_weight(b, i);
    if (k != 1.0f) {
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) row[j] *= k;
    }
    if (b.dcorr) {
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) b.dcorr[j] += row[j];
    }
    if (onehot_back) row[lab] += k;
  }
}

// Each row of logits in b.s becomes e = exp(z - max) (0 in the columns left out), its loss goes to
// b.loss, and with gradients f[i] = k_i / Σ_j e_ij, and the column sums of G = f·e - k·onehot are
// added into b.dcorr (when given).
inline void softmax_block_exps(const SoftmaxBlock& b, float* f) {
  const bool corr = b.corr != nullptr, hits = b.cand != nullptr;
  for (int64_t i = 0; i < b.rows; ++i) {
    float* row = b.s + i * b.ls;
    const int32_t lab = b.labels[i];
    const float z_lab = row[lab] + (corr ? b.corr[lab] : 0.0f);
    float m, s;
    if (corr) s = hits ? softmax_exps<true, true>(row, b.corr, b.cand, lab, b.n, row, m)
                       : softmax_exps<true, false>(row, b.corr, b.cand, lab, b.n, row, m);
    else s = hits ? softmax_exps<false, true>(row, b.corr, b.cand, lab, b.n, row, m)
                  : softmax_exps<false, false>(row, b.corr, b.cand, lab, b.n, row, m);
    if (b.loss) b.loss[i] = __builtin_logf(s) + m - z_lab;
    if (!b.dq) continue;
    const float k = row_weight(b, i), fi = k / s;
    f[i] = fi;
    if (b.dcorr) {
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) b.dcorr[j] += fi * row[j];
      b.dcorr[lab] -= k;
    }
  }
}

// The onehot's part of both gradient products, in f32, for loops that leave it out of their
// products: dq_i -= scale·k_i·c[label_i], dc[label_i] -= scale·k_i·q_i.
inline void onehot_part(const SoftmaxBlock& b) {
  for (int64_t i = 0; i < b.rows; ++i) {
    const float k = b.scale * row_weight(b, i);
    const float* cl = b.c + int64_t{b.labels[i]} * b.dp;
    const float* qi = b.q + i * b.dp;
    float* dqi = b.dq + i * b.dp;
    float* dcl = b.dc + int64_t{b.labels[i]} * b.dp;
#pragma omp simd
    for (int64_t v = 0; v < b.dp; ++v) {
      dqi[v] -= k * cl[v];
      dcl[v] -= k * qi[v];
    }
  }
}

}  // namespace
}  // namespace dagrad::tiles
