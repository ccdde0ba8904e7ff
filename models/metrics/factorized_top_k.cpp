#include "models/metrics/factorized_top_k.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <numeric>
#include <string>

#include "graph/error.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad::metrics {
namespace {

std::string top_k_input(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

void require_f32_matrix(const Tensor& t, const char* what) {
  if (!t.defined() || t.rank() != 2 || t.dtype() != DType::f32)
    throw UserError(std::string("FactorizedTopK: ") + what + " must be an f32 matrix [N, D], got " +
                    top_k_input(t));
}

void require_i32_vector(const Tensor& t, const char* what, int64_t n, const char* n_name) {
  if (!t.defined() || t.rank() != 1 || t.dtype() != DType::i32 || t.dim(0) != n)
    throw UserError(std::string("FactorizedTopK: ") + what + " must be i32 [" + std::to_string(n) +
                    "] (one per " + n_name + "), got " + top_k_input(t));
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

// The dot product in double: each product of two floats is exact, and the sum of d of them is
// within d·2^-53 of their magnitude, far inside the f32 scores' rounding bound.
// The band scan looks at chunks of this many scores, scanning one element by element only when
// the chunk holds a score within the bound besides the threshold's own.
constexpr int64_t kScanChunk = 64;

// How many of row[0..w) are above hi, and how many at least lo: comparisons as GCC vector masks
// (-1 or 0 per lane) subtracted from lane counters, as many lanes at a time as the build's widest
// vector register holds: 16 with AVX-512, else 8. (GCC lowers a 16-lane comparison without AVX-512
// to scalar compares, one lane at a time: 13 times slower than 8 lanes on an AVX2 build, which made
// the portable build's top-k evaluation 2.6 times the native one's.)
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#else
constexpr int kLanes = 8;
#endif
typedef float Floats __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t Ints __attribute__((vector_size(kLanes * sizeof(int32_t))));

void count_above(const float* row, int64_t w, float lo, float hi, int32_t& above, int32_t& at_least) {
  Ints a = {}, b = {};
  const Floats vlo = Floats{} + lo, vhi = Floats{} + hi;
  int64_t j = 0;
  for (; j + kLanes <= w; j += kLanes) {
    Floats x;
    std::memcpy(&x, row + j, sizeof x);
    a -= x > vhi;
    b -= x >= vlo;
  }
  int32_t na = 0, nb = 0;
  for (int k = 0; k < kLanes; ++k) {
    na += a[k];
    nb += b[k];
  }
  for (; j < w; ++j) {
    na += row[j] > hi;
    nb += row[j] >= lo;
  }
  above = na;
  at_least = nb;
}

// Not inlined: one compiled body, so that equal inputs give equal results wherever it is called.
__attribute__((noinline)) double exact_dot(const float* a, const float* b, int64_t d) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < d; ++k) s += static_cast<double>(a[k]) * b[k];
  return s;
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

double FactorizedTopK::check_inputs(const Tensor& queries, const Tensor& candidates,
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
  const double c_norm = max_row_norm(candidates, "candidates");
  const double bound = max_row_norm(queries, "queries") * c_norm;
  if (bound > 0.5 * std::numeric_limits<float>::max())
    throw RuntimeFailure("FactorizedTopK: embeddings too large to score in f32 (largest query norm x "
                         "largest candidate norm = " + std::to_string(bound) + ")");
  return c_norm;
}

// Scores tiles of block_rows_ queries x kPanelCols candidates, each thread its own row blocks and
// its own tile buffer (one oneDNN sgemm per tile, single-threaded inside the parallel region), so
// that a tile is counted while it is in the core's cache whatever the number of candidates: the
// time grows linearly with them. rank(q) = how many candidates come before q's threshold
// candidate `threshold[q]` in the exact order (module comment): a candidate whose f32 score is
// more than the rounding bound above (below) the threshold's exact score is certainly before
// (after) it; only the rare candidates within the bound are scored again in double.
void FactorizedTopK::accumulate(const Tensor& queries, const Tensor& candidates, double c_norm, Mode mode,
                                const std::vector<int32_t>& threshold, const ScoreTileFn* visit,
                                const int32_t* row_of) {
  const int64_t nq = queries.dim(0), nc = candidates.dim(0), d = queries.dim(1);
  const float* qp = queries.f32();
  const float* cp = candidates.f32();
  // The bound on |f32 score - exact score| for query q: every summation order of d products in
  // f32, fused or not, is within gamma_d·Σ|q_k·c_k| <= gamma_d·|q|·|c| of the exact sum (Higham,
  // Accuracy and Stability, 3.1), gamma_d = d·u / (1 - d·u), u = 2^-24; here with the largest
  // candidate norm and a margin for the double arithmetic.
  const double u = std::ldexp(1.0, -24);
  const double gamma = static_cast<double>(d + 1) * u / (1.0 - static_cast<double>(d + 1) * u) * (1.0 + 1e-6);
  ranks_.assign(static_cast<size_t>(nq), 0);
  lo_.resize(static_cast<size_t>(nq));
  hi_.resize(static_cast<size_t>(nq));
  exact_.resize(static_cast<size_t>(nq));
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < nq; ++q) {
    const float* qr = qp + q * d;
    const double t = exact_dot(qr, cp + int64_t{threshold[q]} * d, d);
    double qn = 0;
    for (int64_t k = 0; k < d; ++k) qn += static_cast<double>(qr[k]) * qr[k];
    const double delta = gamma * std::sqrt(qn) * c_norm + 1e-300;
    exact_[q] = t;
    lo_[q] = std::nextafter(static_cast<float>(t - delta), -std::numeric_limits<float>::infinity());
    hi_[q] = std::nextafter(static_cast<float>(t + delta), std::numeric_limits<float>::infinity());
  }
  const bool tie_before = mode == Mode::id;  // id-based: an equal score on a lower row comes first
  const int64_t rows_per_block = block_rows_, cols_per_panel = std::min(nc, kPanelCols);
  const int64_t blocks = (nq + rows_per_block - 1) / rows_per_block;
  std::exception_ptr failure;
#pragma omp parallel
  {
    Tensor tile;  // this thread's [rows, cols] scores, reused between tiles
#pragma omp for schedule(dynamic)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      try {
        const int64_t b = blk * rows_per_block, e = std::min(nq, b + rows_per_block);
        for (int64_t j0 = 0; j0 < nc; j0 += cols_per_panel) {
          const int64_t j1 = std::min(nc, j0 + cols_per_panel), w = j1 - j0;
          Tensor s = grown_view(tile, {e - b, w});
          gemm(queries.rows(b, e), false, candidates.rows(j0, j1), true, s, false);
          for (int64_t q = b; q < e; ++q) {
            const float* row = s.f32() + (q - b) * w;
            const float lo = lo_[q], hi = hi_[q];
            int32_t above = 0, band = 0;
            count_above(row, w, lo, hi, above, band);
            band -= above;
            const int64_t own = int64_t{threshold[q]} - j0;
            const int32_t expected = own >= 0 && own < w && row[own] >= lo && row[own] <= hi;
            if (band > expected) {  // another candidate within the rounding bound: decide it exactly
              const double t = exact_[q];
              for (int64_t c0 = 0; c0 < w; c0 += kScanChunk) {
                const int64_t c1 = std::min(w, c0 + kScanChunk);
                int32_t in_band = 0;
#pragma omp simd reduction(+ : in_band)
                for (int64_t j = c0; j < c1; ++j) in_band += row[j] >= lo && row[j] <= hi;
                if (in_band == (own >= c0 && own < c1 && row[own] >= lo && row[own] <= hi)) continue;
                for (int64_t j = c0; j < c1; ++j) {
                  if (j == own || row[j] < lo || row[j] > hi) continue;
                  const double x = exact_dot(qp + q * d, cp + (j0 + j) * d, d);
                  const int64_t jr = row_of ? row_of[j0 + j] : j0 + j;
                  const int64_t tr = row_of ? row_of[threshold[q]] : threshold[q];
                  above += x > t || (tie_before && x == t && jr < tr);
                }
              }
            }
            ranks_[q] += above;
          }
          if (visit) (*visit)(b, e - b, j0, w, s.f32());
        }
      } catch (...) {
#pragma omp critical(dagrad_top_k_failure)
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
  for (size_t i = 0; i < ks_.size(); ++i) {
    int64_t h = 0;
    for (int64_t q = 0; q < nq; ++q) h += ranks_[q] < ks_[i];
    hits_[i] += h;
  }
  queries_ += nq;
  mode_ = mode;
}

void FactorizedTopK::update(const Tensor& queries, const Tensor& candidates, const Tensor& true_index,
                            const ScoreTileFn* visit) {
  const double c_norm = check_inputs(queries, candidates, true_index);
  check_mode(Mode::score);
  const int32_t* ti = true_index.i32();
  accumulate(queries, candidates, c_norm, Mode::score, std::vector<int32_t>(ti, ti + queries.dim(0)), visit, nullptr);
}

void FactorizedTopK::update(const Tensor& queries, const Tensor& candidates, const Tensor& candidate_ids,
                            const Tensor& true_index, const ScoreTileFn* visit, std::span<const int32_t> row_of) {
  const double c_norm = check_inputs(queries, candidates, true_index);
  const int64_t nc = candidates.dim(0), nq = queries.dim(0), d = queries.dim(1);
  require_i32_vector(candidate_ids, "candidate_ids", nc, "candidate");
  check_mode(Mode::id);
  if (!row_of.empty() && static_cast<int64_t>(row_of.size()) != nc)
    throw UserError("FactorizedTopK: row_of has " + std::to_string(row_of.size()) + " rows for " + std::to_string(nc) +
                    " candidates");
  const int32_t* ids = candidate_ids.i32();
  const int32_t* rows = row_of.empty() ? nullptr : row_of.data();
  auto row = [rows](int32_t j) { return rows ? rows[j] : j; };

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

  // Retrieval orders candidates by (exact score descending, row ascending), a strict total order,
  // so the top k are exactly the candidates with fewer than k predecessors. Some row with the true
  // id is among them iff the first such row in that order, `best`, is: hit at k iff rank(best) < k.
  // This is exact top-k retrieval without a selection.
  const int32_t* ti = true_index.i32();
  const float* qp = queries.f32();
  const float* cp = candidates.f32();
  std::vector<int32_t> best(static_cast<size_t>(nq));
#pragma omp parallel for schedule(static)
  for (int64_t q = 0; q < nq; ++q) {
    const int32_t t = ti[q];
    int32_t b = by_id_[group_begin_[t]];
    double bs = exact_dot(qp + q * d, cp + int64_t{b} * d, d);
    for (int32_t g = group_begin_[t] + 1; g < group_end_[t]; ++g) {
      const double x = exact_dot(qp + q * d, cp + int64_t{by_id_[g]} * d, d);
      if (x > bs || (x == bs && row(by_id_[g]) < row(b))) {  // ties keep the lower row
        b = by_id_[g];
        bs = x;
      }
    }
    best[q] = b;
  }
  accumulate(queries, candidates, c_norm, Mode::id, best, visit, rows);
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
                                     const Tensor& true_index, std::span<const int64_t> ks,
                                     const ScoreTileFn* visit) {
  FactorizedTopK m({ks.begin(), ks.end()});
  m.update(queries, candidates, true_index, visit);
  return m.result();
}

std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& candidate_ids, const Tensor& true_index,
                                     std::span<const int64_t> ks, const ScoreTileFn* visit) {
  FactorizedTopK m({ks.begin(), ks.end()});
  m.update(queries, candidates, candidate_ids, true_index, visit);
  return m.result();
}

}  // namespace dagrad::metrics
