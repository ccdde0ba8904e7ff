#include "models/metrics/factorized_top_k.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "graph/error.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad::metrics {
namespace {

std::string describe(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

void require_f32_matrix(const Tensor& t, const char* what) {
  if (!t.defined() || t.rank() != 2 || t.dtype() != DType::f32)
    throw UserError(std::string("FactorizedTopK: ") + what + " must be an f32 matrix [N, D], got " +
                    describe(t));
}

void require_i32_vector(const Tensor& t, const char* what, int64_t n, const char* n_name) {
  if (!t.defined() || t.rank() != 1 || t.dtype() != DType::i32 || t.dim(0) != n)
    throw UserError(std::string("FactorizedTopK: ") + what + " must be i32 [" + std::to_string(n) +
                    "] (one per " + n_name + "), got " + describe(t));
}

// A NaN or infinity in the embeddings would make the comparisons meaningless: fail loudly.
// Returns the largest row norm (in double), which bounds every dot product with the row.
double max_row_norm(const Tensor& t, const char* what) {
  const float* p = t.f32();
  const int64_t rows = t.dim(0), cols = t.dim(1);
  int64_t first_bad = rows * cols;
  double max_sq = 0.0;
#pragma omp parallel for schedule(static) reduction(min : first_bad) reduction(max : max_sq)
  for (int64_t r = 0; r < rows; ++r) {
    double sq = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      const float x = p[r * cols + c];
      if (!std::isfinite(x) && r * cols + c < first_bad) first_bad = r * cols + c;
      sq += static_cast<double>(x) * x;
    }
    max_sq = std::max(max_sq, sq);
  }
  if (first_bad < rows * cols)
    throw RuntimeFailure(std::string("FactorizedTopK: ") + what + " " + shape_str(t.shape()) +
                         " holds the non-finite value " + std::to_string(p[first_bad]) + " at row " +
                         std::to_string(first_bad / cols) + ", column " + std::to_string(first_bad % cols));
  return std::sqrt(max_sq);
}

// Plain counting loops, vectorised by the compiler; no selection is needed because a hit at k
// is exactly "rank < k".
int32_t count_greater(const float* row, int64_t n, float t) {
  int32_t c = 0;
  for (int64_t j = 0; j < n; ++j) c += row[j] > t;
  return c;
}

int32_t count_greater_equal(const float* row, int64_t n, float t) {
  int32_t c = 0;
  for (int64_t j = 0; j < n; ++j) c += row[j] >= t;
  return c;
}

}  // namespace

FactorizedTopK::FactorizedTopK(std::vector<int64_t> ks, int64_t block_rows)
    : ks_(std::move(ks)), block_rows_(block_rows), hits_(ks_.size(), 0) {
  if (ks_.empty()) throw UserError("FactorizedTopK: ks is empty; give at least one cut-off, e.g. [1, 5, 10]");
  for (size_t i = 0; i < ks_.size(); ++i)
    if (ks_[i] < 1)
      throw UserError("FactorizedTopK: ks[" + std::to_string(i) + "] = " + std::to_string(ks_[i]) +
                      "; every k must be at least 1");
  if (block_rows_ < 1)
    throw UserError("FactorizedTopK: block_rows must be at least 1, got " + std::to_string(block_rows_));
}

void FactorizedTopK::reset() {
  std::fill(hits_.begin(), hits_.end(), 0);
  queries_ = 0;
  mode_ = Mode::none;
}

void FactorizedTopK::check_mode(Mode m) const {
  if (mode_ != Mode::none && mode_ != m)
    throw UserError(std::string("FactorizedTopK: this accumulator holds ") +
                    (mode_ == Mode::score ? "score-based" : "id-based") + " results and got " +
                    (m == Mode::score ? "a score-based" : "an id-based") +
                    " update; reset() before switching variants");
}

void FactorizedTopK::check_inputs(const Tensor& queries, const Tensor& candidates,
                                  const Tensor& true_index) const {
  require_f32_matrix(queries, "queries");
  require_f32_matrix(candidates, "candidates");
  if (queries.dim(1) != candidates.dim(1))
    throw UserError("FactorizedTopK: queries " + shape_str(queries.shape()) + " and candidates " +
                    shape_str(candidates.shape()) + " differ in embedding size");
  const int64_t nc = candidates.dim(0);
  if (nc == 0) throw UserError("FactorizedTopK: no candidates (candidates " + shape_str(candidates.shape()) + ")");
  if (nc > INT32_MAX) throw UserError("FactorizedTopK: more than 2^31 - 1 candidates");
  require_i32_vector(true_index, "true_index", queries.dim(0), "query");
  const int32_t* ti = true_index.i32();
  for (int64_t q = 0; q < queries.dim(0); ++q)
    if (ti[q] < 0 || ti[q] >= nc)
      throw UserError("FactorizedTopK: true_index[" + std::to_string(q) + "] = " + std::to_string(ti[q]) +
                      " is not a candidate row; expected 0 .. " + std::to_string(nc - 1));
  // |q·c| and every partial sum of it are at most |q| |c| (Cauchy-Schwarz): below this bound no
  // score can overflow to infinity or NaN, so every score is a finite, comparable float.
  const double bound = max_row_norm(queries, "queries") * max_row_norm(candidates, "candidates");
  if (bound > 0.5 * std::numeric_limits<float>::max())
    throw RuntimeFailure("FactorizedTopK: embeddings too large to score in f32 (largest query norm x "
                         "largest candidate norm = " + std::to_string(bound) + ")");
}

template <class RankOfRow>
void FactorizedTopK::accumulate(const Tensor& queries, const Tensor& candidates, Mode mode,
                                RankOfRow rank_of_row) {
  const int64_t nq = queries.dim(0), nc = candidates.dim(0);
  const int64_t block = std::min(block_rows_, nq);
  ranks_.resize(static_cast<size_t>(block));
  std::vector<int64_t> hits(ks_.size(), 0);
  for (int64_t b = 0; b < nq; b += block_rows_) {
    const int64_t e = std::min(nq, b + block_rows_);
    Tensor s = grown_view(scores_, {e - b, nc});
    gemm(queries.rows(b, e), false, candidates, true, s, false);
    const float* sp = s.f32();
#pragma omp parallel for schedule(static)
    for (int64_t q = 0; q < e - b; ++q) ranks_[q] = rank_of_row(sp + q * nc, b + q);
    for (size_t i = 0; i < ks_.size(); ++i)
      for (int64_t q = 0; q < e - b; ++q) hits[i] += ranks_[q] < ks_[i];
  }
  for (size_t i = 0; i < ks_.size(); ++i) hits_[i] += hits[i];
  queries_ += nq;
  mode_ = mode;
}

void FactorizedTopK::update(const Tensor& queries, const Tensor& candidates, const Tensor& true_index) {
  check_inputs(queries, candidates, true_index);
  check_mode(Mode::score);
  const int64_t nc = candidates.dim(0);
  const int32_t* ti = true_index.i32();
  accumulate(queries, candidates, Mode::score, [nc, ti](const float* row, int64_t q) -> int32_t {
    const float t = row[ti[q]];  // the very entry it is compared against: ties stay ties
    return count_greater(row, nc, t);
  });
}

void FactorizedTopK::update(const Tensor& queries, const Tensor& candidates, const Tensor& candidate_ids,
                            const Tensor& true_index) {
  check_inputs(queries, candidates, true_index);
  const int64_t nc = candidates.dim(0);
  require_i32_vector(candidate_ids, "candidate_ids", nc, "candidate");
  check_mode(Mode::id);
  const int32_t* ids = candidate_ids.i32();

  // Rows grouped by id, each group in ascending row order.
  by_id_.resize(nc);
  std::iota(by_id_.begin(), by_id_.end(), 0);
  std::stable_sort(by_id_.begin(), by_id_.end(), [ids](int32_t a, int32_t b) { return ids[a] < ids[b]; });
  group_begin_.resize(nc);
  group_end_.resize(nc);
  for (int64_t g = 0; g < nc;) {
    int64_t h = g;
    while (h < nc && ids[by_id_[h]] == ids[by_id_[g]]) ++h;
    for (int64_t i = g; i < h; ++i) {
      group_begin_[by_id_[i]] = static_cast<int32_t>(g);
      group_end_[by_id_[i]] = static_cast<int32_t>(h);
    }
    g = h;
  }

  // Retrieval orders candidates by (score descending, row ascending), a strict total order, so
  // the top k are exactly the candidates with fewer than k predecessors. Some row with the true id
  // is among them iff the first such row in that order, `best`, is: hit at k iff rank(best) < k.
  // This is exact top-k retrieval without a selection.
  const int32_t* ti = true_index.i32();
  const int32_t* order = by_id_.data();
  const int32_t* gb = group_begin_.data();
  const int32_t* ge = group_end_.data();
  accumulate(queries, candidates, Mode::id, [=](const float* row, int64_t q) -> int32_t {
    const int32_t t = ti[q];
    int32_t best = order[gb[t]];
    for (int32_t g = gb[t] + 1; g < ge[t]; ++g)
      if (row[order[g]] > row[best]) best = order[g];  // rows ascend: ties keep the lower row
    const float bs = row[best];
    return count_greater_equal(row, best, bs) + count_greater(row + best + 1, nc - best - 1, bs);
  });
}

void FactorizedTopK::merge(const FactorizedTopK& other) {
  if (other.ks_ != ks_) throw UserError("FactorizedTopK: merge of accumulators with different ks");
  if (other.mode_ != Mode::none) {
    check_mode(other.mode_);
    mode_ = other.mode_;
  }
  for (size_t i = 0; i < ks_.size(); ++i) hits_[i] += other.hits_[i];
  queries_ += other.queries_;
}

std::vector<double> FactorizedTopK::result() const {
  if (queries_ == 0)
    throw UserError("FactorizedTopK: no queries seen since reset(); accuracy over zero queries is undefined");
  std::vector<double> acc(ks_.size());
  for (size_t i = 0; i < ks_.size(); ++i)
    acc[i] = static_cast<double>(hits_[i]) / static_cast<double>(queries_);
  return acc;
}

std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& true_index, std::span<const int64_t> ks) {
  FactorizedTopK m({ks.begin(), ks.end()});
  m.update(queries, candidates, true_index);
  return m.result();
}

std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& candidate_ids, const Tensor& true_index,
                                     std::span<const int64_t> ks) {
  FactorizedTopK m({ks.begin(), ks.end()});
  m.update(queries, candidates, candidate_ids, true_index);
  return m.result();
}

}  // namespace dagrad::metrics
