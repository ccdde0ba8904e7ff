// FactorizedTopK: top-k retrieval accuracy of query embeddings against a candidate set, with the
// semantics of TensorFlow Recommenders' tfrs.metrics.FactorizedTopK (exact brute-force scoring).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad::metrics {

// Inputs shared by both variants:
//   queries     f32 [Nq, D]; candidates f32 [Nc, D]; the score of query q and candidate c is
//               their dot product, computed for whole blocks of queries by one matrix product.
//   true_index  i32 [Nq]: the row of `candidates` that is query q's true candidate.
//   ks          the cut-offs, each >= 1; results come in the same order. A k of Nc or more is
//               always a hit.
//
// Candidates are ordered by their score, the dot product computed exactly (in double), never by
// how f32 rounding happened to fall: the f32 scores of the matrix products decide every candidate
// further from the true score than their rounding bound, and the few within it are scored again
// in double. Results therefore do not depend on blocking, threads or instruction set, and equal
// embeddings always tie.
//
// Score-based (TFRS without candidate ids): query q is a hit at k when FEWER THAN k candidates
// score strictly higher than its true candidate. Ties with the true score count as hits
// (tf.math.in_top_k).
//
// Id-based (TFRS with candidate ids): candidate_ids i32 [Nc]. The k best candidates by score are
// retrieved, equal scores ordered by lower candidate row first (as tf.math.top_k does), and q is a
// hit at k when any of them has the id of its true candidate, candidate_ids[true_index[q]].
// Duplicate ids therefore help: another row with the true id that ranks higher counts.
//
// Scores are computed in tiles of block_rows queries x 512 candidates (256 KiB at the default
// 128), each counted while in cache, so the time grows linearly with the candidates. An optional
// ScoreTileFn sees every tile (the Retrieval task takes its test loss from them): it is called
// from several threads at once, each row's tiles in column order on one thread.
//
// Every update adds integer hit counts, so results over several blocks of queries (several
// update() calls, or merged accumulators) equal the all-at-once result exactly. An accumulator
// takes one variant between resets; mixing them is rejected. Non-finite embeddings, or ones so
// large that a score could overflow f32, are a RuntimeFailure (a diverged model); bad shapes,
// dtypes, indices or ks a UserError. A failed update leaves the accumulator unchanged.

// Called with the scores s[i·cols + j] of queries [row0, row0 + rows) against candidates
// [col0, col0 + cols).
using ScoreTileFn = std::function<void(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s)>;

class FactorizedTopK {
 public:
  // block_rows: queries per tile (each thread's tile buffer is block_rows x 512 floats).
  explicit FactorizedTopK(std::vector<int64_t> ks, int64_t block_rows = kDefaultBlockRows);
  static constexpr int64_t kDefaultBlockRows = 128;

  void reset();
  // Score-based.
  void update(const Tensor& queries, const Tensor& candidates, const Tensor& true_index,
              const ScoreTileFn* visit = nullptr);
  // Id-based. row_of: when the candidates are a reordering of a table, each one's row there, by
  // which equal scores are ordered (empty: their own rows).
  void update(const Tensor& queries, const Tensor& candidates, const Tensor& candidate_ids,
              const Tensor& true_index, const ScoreTileFn* visit = nullptr, std::span<const int32_t> row_of = {});
  // Adds another accumulator's counts (same ks, same variant).
  void merge(const FactorizedTopK& other);

  // Accuracy per k: hits / queries. UserError when no query has been seen since reset().
  std::vector<double> result() const;

  const std::vector<int64_t>& ks() const { return ks_; }
  const std::vector<int64_t>& hits() const { return hits_; }
  int64_t queries() const { return queries_; }

 private:
  enum class Mode { none, score, id };
  static constexpr int64_t kPanelCols = 512;
  // Checks the inputs; returns the largest candidate norm.
  double check_inputs(const Tensor& queries, const Tensor& candidates, const Tensor& true_index) const;
  void check_mode(Mode m) const;
  // Scores the queries in tiles and counts, for each query q, the candidates ordered before
  // candidate threshold[q] (its true candidate, or the first row with the true id), then the hits.
  void accumulate(const Tensor& queries, const Tensor& candidates, double c_norm, Mode mode,
                  const std::vector<int32_t>& threshold, const ScoreTileFn* visit, const int32_t* row_of);

  std::vector<int64_t> ks_;
  int64_t block_rows_;
  Mode mode_ = Mode::none;
  std::vector<int64_t> hits_;
  int64_t queries_ = 0;
  // Reused between updates: each query's rank (how many candidates precede its threshold
  // candidate; a hit at k is rank < k), the threshold's exact score and the f32 band around it
  // within which scores are decided in double.
  std::vector<int32_t> ranks_;
  std::vector<double> exact_;
  std::vector<float> lo_, hi_;
  // Id-based: candidate rows sorted by (id, row), and for each row the span of rows sharing its id.
  std::vector<int32_t> by_id_;
  std::vector<int32_t> group_begin_, group_end_;
};

// One-shot forms: accuracy per k over all queries.
std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& true_index, std::span<const int64_t> ks,
                                     const ScoreTileFn* visit = nullptr);
std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& candidate_ids, const Tensor& true_index,
                                     std::span<const int64_t> ks, const ScoreTileFn* visit = nullptr);

}  // namespace dagrad::metrics
