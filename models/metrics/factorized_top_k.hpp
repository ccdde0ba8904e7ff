// FactorizedTopK: top-k retrieval accuracy of query embeddings against a candidate set, with the
// semantics of TensorFlow Recommenders' tfrs.metrics.FactorizedTopK (exact brute-force scoring).
#pragma once
#include <cstdint>
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
// Score-based (TFRS without candidate ids): query q is a hit at k when FEWER THAN k candidates
// score strictly higher than its true candidate. Ties with the true score count as hits
// (tf.math.in_top_k). The true score is read from the same computed score row as every other
// candidate's, so the true candidate always ties with itself exactly.
//
// Id-based (TFRS with candidate ids): candidate_ids i32 [Nc]. The k best candidates by score are
// retrieved, equal scores ordered by lower candidate row first (as tf.math.top_k does), and q is a
// hit at k when any of them has the id of its true candidate, candidate_ids[true_index[q]].
// Duplicate ids therefore help: another row with the true id that ranks higher counts.
//
// Every update adds integer hit counts, so results over several blocks of queries (several
// update() calls, or merged accumulators) equal the all-at-once result exactly. An accumulator
// takes one variant between resets; mixing them is rejected. Non-finite embeddings, or ones so
// large that a score could overflow f32, are a RuntimeFailure (a diverged model); bad shapes,
// dtypes, indices or ks a UserError. A failed update leaves the accumulator unchanged.
class FactorizedTopK {
 public:
  // block_rows: queries scored per matrix product (the score buffer is block_rows x Nc floats).
  explicit FactorizedTopK(std::vector<int64_t> ks, int64_t block_rows = 1024);

  void reset();
  // Score-based.
  void update(const Tensor& queries, const Tensor& candidates, const Tensor& true_index);
  // Id-based.
  void update(const Tensor& queries, const Tensor& candidates, const Tensor& candidate_ids,
              const Tensor& true_index);
  // Adds another accumulator's counts (same ks, same variant).
  void merge(const FactorizedTopK& other);

  // Accuracy per k: hits / queries. UserError when no query has been seen since reset().
  std::vector<double> result() const;

  const std::vector<int64_t>& ks() const { return ks_; }
  const std::vector<int64_t>& hits() const { return hits_; }
  int64_t queries() const { return queries_; }

 private:
  enum class Mode { none, score, id };
  void check_inputs(const Tensor& queries, const Tensor& candidates, const Tensor& true_index) const;
  void check_mode(Mode m) const;
  // Scores blocks of queries and counts hits from rank_of_row(score row, query) for each query,
  // the number of candidates retrieved before its true one.
  template <class RankOfRow>
  void accumulate(const Tensor& queries, const Tensor& candidates, Mode mode, RankOfRow rank_of_row);

  std::vector<int64_t> ks_;
  int64_t block_rows_;
  Mode mode_ = Mode::none;
  std::vector<int64_t> hits_;
  int64_t queries_ = 0;
  // Reused between blocks and updates: the block's scores, and each query's rank (how many
  // candidates precede its true candidate; a hit at k is rank < k).
  Tensor scores_;
  std::vector<int32_t> ranks_;
  // Id-based: candidate rows sorted by (id, row), and for each row the span of rows sharing its id.
  std::vector<int32_t> by_id_;
  std::vector<int32_t> group_begin_, group_end_;
};

// One-shot forms: accuracy per k over all queries.
std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& true_index, std::span<const int64_t> ks);
std::vector<double> factorized_top_k(const Tensor& queries, const Tensor& candidates,
                                     const Tensor& candidate_ids, const Tensor& true_index,
                                     std::span<const int64_t> ks);

}  // namespace dagrad::metrics
