#include "models/metrics/in_batch_loss.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "graph/error.hpp"
#include "ops/kernels/softmax_row.hpp"

namespace dagrad::metrics {

InBatchSoftmaxLoss::InBatchSoftmaxLoss(const Rows& rows, int64_t batch_size, float scale)
    : n_(static_cast<int64_t>(rows.truth.size())),
      batch_(batch_size),
      scale_(scale),
      truth_(rows.truth.begin(), rows.truth.end()),
      ids_(rows.ids.begin(), rows.ids.end()),
      corr_(rows.correction.begin(), rows.correction.end()),
      weights_(rows.weights.begin(), rows.weights.end()) {
  if (batch_ < 1) throw UserError("InBatchSoftmaxLoss: batch_size must be at least 1, got " + std::to_string(batch_));
  // The bounds on the logits (tile(), score()) take the largest score as the largest logit.
  if (!(std::isfinite(scale_) && scale_ > 0))
    throw UserError("InBatchSoftmaxLoss: scale must be a finite number > 0 (1 / temperature), got " + std::to_string(scale_));
  auto check = [&](size_t size, const char* what) {
    if (size != 0 && static_cast<int64_t>(size) != n_)
      throw UserError(std::string("InBatchSoftmaxLoss: ") + what + " has " + std::to_string(size) + " values for " +
                      std::to_string(n_) + " rows");
  };
  check(corr_.size(), "correction");
  check(weights_.size(), "weights");
  check(ids_.size(), "ids");
  for (int64_t i = 0; i < n_; ++i)
    if (truth_[i] < 0) throw UserError("InBatchSoftmaxLoss: truth[" + std::to_string(i) + "] is negative");

  // Each batch's distinct candidates, and its distinct (candidate, correction) pairs with their
  // counts.
  const int64_t batches = (n_ + batch_ - 1) / batch_;
  cand_begin_.assign(1, 0);
  group_begin_.assign(1, 0);
  own_col_.resize(static_cast<size_t>(n_));
  std::vector<int64_t> order;
  auto corr_of = [&](int64_t i) { return corr_.empty() ? 0.0f : corr_[i]; };
  // Each batch's rows by (candidate, correction): a counting sort by candidate, then each
  // candidate's rows by correction.
  const int32_t most = n_ ? *std::max_element(truth_.begin(), truth_.end()) : 0;
  std::vector<int64_t> next(static_cast<size_t>(most) + 2);
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t r0 = b * batch_, r1 = std::min(n_, r0 + batch_);
    order.resize(static_cast<size_t>(r1 - r0));
    std::fill(next.begin(), next.end(), 0);
    for (int64_t i = r0; i < r1; ++i) ++next[truth_[i] + 1];
    for (size_t c = 1; c < next.size(); ++c) next[c] += next[c - 1];
    for (int64_t i = r0; i < r1; ++i) order[next[truth_[i]]++] = i;
    if (!corr_.empty())
      for (size_t k = 0; k < order.size();) {
        size_t e = k;
        while (e < order.size() && truth_[order[e]] == truth_[order[k]]) ++e;
        std::sort(order.begin() + k, order.begin() + e, [&](int64_t x, int64_t y) { return corr_[x] < corr_[y]; });
        k = e;
      }
    const int64_t first_cand = static_cast<int64_t>(cand_rows_.size());
    for (size_t k = 0; k < order.size();) {
      size_t e = k;
      while (e < order.size() && truth_[order[e]] == truth_[order[k]] && corr_of(order[e]) == corr_of(order[k])) ++e;
      if (cand_rows_.size() == static_cast<size_t>(first_cand) || cand_rows_.back() != truth_[order[k]])
        cand_rows_.push_back(truth_[order[k]]);
      const int32_t col = static_cast<int32_t>(static_cast<int64_t>(cand_rows_.size()) - 1 - first_cand);
      for (size_t x = k; x < e; ++x) own_col_[order[x]] = col;
      group_col_.push_back(col);
      group_corr_.push_back(corr_of(order[k]));
      group_count_.push_back(static_cast<float>(e - k));
      group_id_.push_back(ids_.empty() ? 0 : ids_[order[k]]);
      k = e;
    }
    cand_begin_.push_back(static_cast<int64_t>(cand_rows_.size()));
    group_begin_.push_back(static_cast<int64_t>(group_col_.size()));
    float cm = corr_of(r0);
    for (int64_t i = r0; i < r1; ++i) cm = std::max(cm, corr_of(i));
    corr_max_.push_back(cm);
  }
  max_.assign(static_cast<size_t>(n_), -std::numeric_limits<float>::infinity());
  label_.assign(static_cast<size_t>(n_), 0.0f);
  seen_.assign(static_cast<size_t>(n_), 0);
  sum_.assign(static_cast<size_t>(n_), 0.0);
}

std::span<const int32_t> InBatchSoftmaxLoss::candidates(int64_t b) const {
  if (b < 0 || b >= batches()) throw UserError("InBatchSoftmaxLoss: no batch " + std::to_string(b));
  return candidates_of(b);
}

void InBatchSoftmaxLoss::tile(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s) {
  tile_with_bounds(row0, rows, col0, cols, s, nullptr);
}

// The evaluation loss's hot loop (the exps of every tile of scores). A portable build (meson
// -Dnative=false, x86-64-v3) compiles it twice, for AVX2 and for AVX-512, and the loader picks the
// clone the CPU can run (GCC's target_clones); a native build compiles it once, for its CPU.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__AVX512F__) && defined(__AVX2__)
__attribute__((target_clones("arch=x86-64-v4", "default")))
#endif
void InBatchSoftmaxLoss::tile_with_bounds(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s,
                                          const float* bound) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const bool hits = !ids_.empty();
  const float scale = scale_;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t r = row0 + i;
    if (r < 0 || r >= n_) throw UserError("InBatchSoftmaxLoss: a tile row " + std::to_string(r) + " outside the rows");
    const int64_t b = r / batch_;
    // This batch's groups whose column falls in the tile.
    const int32_t* cb = group_col_.data() + group_begin_[b];
    const int32_t* ce = group_col_.data() + group_begin_[b + 1];
    const int64_t g0 = std::lower_bound(cb, ce, col0) - group_col_.data();
    const int64_t g1 = std::lower_bound(cb, ce, col0 + cols) - group_col_.data();
    const int64_t own = own_col_[r] - col0;
    const bool has_label = own >= 0 && own < cols;
    if (g0 == g1 && !has_label) continue;
    const int32_t id = hits ? ids_[r] : 0;
    const int64_t k = g1 - g0;
    const float* sr = s + i * cols;
    const int32_t* gc = group_col_.data() + g0;
    const int32_t* gi = group_id_.data() + g0;
    const float* gr = group_corr_.data() + g0;
    const float* gn = group_count_.data() + g0;
    // One group per column (no correction differs within a candidate): its logits are one
    // contiguous run of the row's scores.
    const bool contiguous = k == 0 || gc[k - 1] - gc[0] == k - 1;
    const float* run = sr + (k ? gc[0] - col0 : 0);
    // Each group's logit times its multiplicity (removing accidental hits, every column with the
    // row's id is left out here, and the row's own column put back below).
    auto weight = [&](int64_t g) { return hits && gi[g] == id ? 0.0f : gn[g]; };
    auto logit = [&](int64_t g) { return scale * sr[gc[g] - col0] + gr[g]; };
    float zl = 0;
    if (has_label) {
      zl = scale * sr[own] + (corr_.empty() ? 0.0f : corr_[r]);
      label_[r] = zl;
      seen_[r] = 1;
    }
    // One pass: exp against a bound on the logits, unless the terms underflow against it; then
    // against their own maximum. The bound: from score(), scale·|q|·(the batch's largest
    // candidate norm) plus the batch's largest correction, the same for every tile of the row (no
    // pass over the tile for it); else scale times the largest score of the batch's columns in
    // this tile, plus the batch's largest correction.
    float m;
    if (bound) {
      m = bound[r];
    } else {
      float top = has_label ? sr[own] : kNegInf;
      const int64_t span = k ? gc[k - 1] - gc[0] + 1 : 0;
#pragma omp simd reduction(max : top)
      for (int64_t j = 0; j < span; ++j) top = run[j] > top ? run[j] : top;
      m = scale * top + corr_max_[b];
    }
    float part = 0;
    if (contiguous && !hits && corr_.empty()) {  // the common case: one multiply-add to a logit
#pragma omp simd reduction(+ : part)
      for (int64_t g = 0; g < k; ++g) part += gn[g] * exp_few_ulp(scale * run[g] - m);
    } else if (contiguous && !hits) {
#pragma omp simd reduction(+ : part)
      for (int64_t g = 0; g < k; ++g) part += gn[g] * exp_few_ulp(scale * run[g] + gr[g] - m);
    } else if (contiguous) {
#pragma omp simd reduction(+ : part)
      for (int64_t g = 0; g < k; ++g) part += weight(g) * exp_few_ulp(scale * run[g] + gr[g] - m);
    } else {
      for (int64_t g = 0; g < k; ++g) part += weight(g) * exp_few_ulp(logit(g) - m);
    }
    if (has_label && hits) part += exp_few_ulp(zl - m);
    // Terms below 1.6e-38 count as that (exp_few_ulp's clamp): far below a part above 1e-25.
    if (!(part > 1e-25f)) {
      m = has_label ? zl : kNegInf;
      for (int64_t g = 0; g < k; ++g)
        if (weight(g) > 0.0f) m = std::max(m, logit(g));
      if (m == kNegInf) continue;  // nothing kept in this tile
      part = 0;
      for (int64_t g = 0; g < k; ++g) part += weight(g) * exp_few_ulp(logit(g) - m);
      if (has_label && hits) part += exp_few_ulp(zl - m);
    }
    const float old = max_[r];
    if (m == old) {
      sum_[r] += part;
    } else if (m > old) {
      sum_[r] = (old == kNegInf ? 0.0 : sum_[r] * std::exp(double{old} - m)) + part;
      max_[r] = m;
    } else {
      sum_[r] += static_cast<double>(part) * std::exp(double{m} - old);
    }
  }
}

void InBatchSoftmaxLoss::score(const Tensor& queries, const Tensor& candidates, const Tensor& ids, FactorizedTopK& top) {
  const int64_t nc = candidates.dim(0), d = candidates.dim(1);
  if (queries.dim(0) != n_)
    throw UserError("InBatchSoftmaxLoss::score: " + std::to_string(queries.dim(0)) + " queries for " + std::to_string(n_) +
                    " rows");
  const bool id_based = ids.defined();
  const int64_t b_count = batches();
  // Each row's bound on its logits (tile()): scale·|q|·(the largest norm among the batch's
  // candidates), raised by more than the f32 products' rounding (every summation order of d
  // products is within (d + 1)·2^-24·|q|·|c| of the exact score), plus the batch's largest correction.
  // (Queries of another width or type: no bounds; FactorizedTopK refuses them below.)
  std::vector<float> bound;
  if (queries.rank() == 2 && queries.dim(1) == d && queries.dtype() == DType::f32 && candidates.dtype() == DType::f32) {
    bound.assign(static_cast<size_t>(n_), 0.0f);
    const double margin = 1.0 + 2.0 * static_cast<double>(d + 2) * std::ldexp(1.0, -24);
    const float* qp = queries.f32();
    const float* cp = candidates.f32();
    auto norm = [d](const float* x) {
      double sq = 0;
      for (int64_t k = 0; k < d; ++k) sq += static_cast<double>(x[k]) * x[k];
      return std::sqrt(sq);
    };
#pragma omp parallel for schedule(static) if (n_ * d >= (int64_t{1} << 16))
    for (int64_t b = 0; b < b_count; ++b) {
      double c_max = 0;
      for (int32_t c : candidates_of(b))
        if (c < nc) c_max = std::max(c_max, norm(cp + int64_t{c} * d));
      const int64_t b0 = b * batch_, b1 = std::min(n_, b0 + batch_);
      for (int64_t r = b0; r < b1; ++r) {
        const double above = double{scale_} * norm(qp + r * d) * c_max * margin + corr_max_[b];
        bound[r] = std::nextafter(static_cast<float>(above), std::numeric_limits<float>::infinity());
      }
    }
  }
  std::vector<FactorizedTopK> parts(static_cast<size_t>(b_count), FactorizedTopK(top.ks()));
  auto score_batch = [&](int64_t b) {
    const int64_t b0 = b * batch_, b1 = std::min(n_, b0 + batch_);
    // The table reordered: the batch's candidates first, then the others in their order.
    std::vector<int32_t> order(static_cast<size_t>(nc)), position(static_cast<size_t>(nc));
    std::vector<uint8_t> first(static_cast<size_t>(nc), 0);
    int64_t k = 0;
    for (int32_t c : candidates_of(b)) {
      if (c >= nc)
        throw UserError("InBatchSoftmaxLoss::score: candidate row " + std::to_string(c) + " outside the " +
                        std::to_string(nc) + " candidates");
      order[k++] = c;
      first[c] = 1;
    }
    for (int32_t c = 0; c < nc; ++c)
      if (!first[c]) order[k++] = c;
    Tensor reordered({nc, d}), reordered_ids = id_based ? Tensor({nc}, DType::i32) : Tensor();
    for (int64_t j = 0; j < nc; ++j) {
      position[order[j]] = static_cast<int32_t>(j);
      std::copy_n(candidates.f32() + int64_t{order[j]} * d, d, reordered.f32() + j * d);
      if (id_based) reordered_ids.i32()[j] = ids.i32()[order[j]];
    }
    Tensor truth_b({b1 - b0}, DType::i32);
    for (int64_t r = b0; r < b1; ++r) truth_b.i32()[r - b0] = position[truth_[r]];
    ScoreTileFn visit = [&](int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s) {
      tile_with_bounds(b0 + row0, rows, col0, cols, s, bound.empty() ? nullptr : bound.data());
    };
    FactorizedTopK& part = parts[static_cast<size_t>(b)];
    if (id_based) part.update(queries.rows(b0, b1), reordered, reordered_ids, truth_b, &visit, order);
    else part.update(queries.rows(b0, b1), reordered, truth_b, &visit);
  };
  if (b_count >= 2 * omp_get_max_threads()) {
    std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic)
    for (int64_t b = 0; b < b_count; ++b) {
      try {
        score_batch(b);
      } catch (...) {
#pragma omp critical(dagrad_in_batch_loss_failure)
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  } else {
    for (int64_t b = 0; b < b_count; ++b) score_batch(b);
  }
  for (const auto& part : parts) top.merge(part);
}

double InBatchSoftmaxLoss::result() const {
  if (n_ == 0) throw UserError("InBatchSoftmaxLoss: no rows; the mean of nothing is undefined");
  double weighted = 0;
  for (int64_t b0 = 0; b0 < n_; b0 += batch_) {
    const int64_t b1 = std::min(n_, b0 + batch_);
    double batch = 0;
    for (int64_t r = b0; r < b1; ++r) {
      if (!seen_[r])
        throw RuntimeFailure("InBatchSoftmaxLoss: row " + std::to_string(r) + "'s candidate " +
                             std::to_string(truth_[r]) + " was in no tile of scores");
      const double loss = std::log(sum_[r]) + max_[r] - label_[r];
      batch += (weights_.empty() ? 1.0 : weights_[r]) * loss;
    }
    weighted += batch * static_cast<double>(b1 - b0);
  }
  return weighted / static_cast<double>(n_);
}

}  // namespace dagrad::metrics
