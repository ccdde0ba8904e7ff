// The row work of a fused softmax block, shared by softmax_tiles_isa.cpp and softmax_tiles_bf16.cpp
// (and compiled in each for its instruction set, hence internal linkage): each row of logits in
// b.s becomes its softmax - onehot (softmax_row), the row loss is kept, and with gradients the row
// is scaled to G = k·D (k = w·dout) and added into the column sums b.dcorr. `onehot_back` adds k
// back at the label afterwards, leaving k·softmax for callers that apply the onehot's part apart.
#pragma once

#include <cstdint>

#include "ops/kernels/softmax_row.hpp"
#include "ops/kernels/softmax_tiles.hpp"

namespace dagrad::tiles {
namespace {

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
    const float k = (b.w ? b.w[i] : 1.0f) * (b.dout ? b.dout[i] : 1.0f);
    if (k != 1.0f) {
#pragma omp simd
      for (int64_t j = 0; j < b.n; ++j) row[j] *= k;
    }
#pragma omp simd
    for (int64_t j = 0; j < b.n; ++j) b.dcorr[j] += row[j];
    if (onehot_back) row[lab] += k;
  }
}

}  // namespace
}  // namespace dagrad::tiles
