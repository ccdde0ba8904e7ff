// InBatchSoftmaxLoss: the Retrieval task's in-batch softmax loss over an evaluated table, taken from
// the scores of its queries against the candidate table (FactorizedTopK's tiles) instead of from a
// forward pass per batch, whose [B, B] logits cost more than the whole top-k scoring.
//
// It holds when every evaluated row's candidate is row truth[i] of the candidate table with the
// same features, so that the candidate tower gives it the same vector: then the logit of query i
// and the candidate of row j of its batch is the score of query i against candidate truth[j]. A
// batch holds each candidate once per row that has it, so the softmax over a batch is a weighted
// sum over its distinct candidates, and only those scores are read from each tile.
//
// Batches are consecutive rows [b·B, (b+1)·B), the last one partial, as the task's evaluation
// forms them. Row i of batch b has the loss
//   w_i · (logsumexp_{j in b} z_ij - z_ii),  z_ij = scale · q_i·c_truth[j] + corr_j,
// where, when removing accidental hits, the columns j != i with row i's candidate id are left out.
// The batch's loss is the sum over its rows (the task's loss), and result() the mean of the
// batches' losses weighted by their rows (as metrics::MeanLoss over evaluate's batches).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "models/metrics/factorized_top_k.hpp"

namespace dagrad::metrics {

class InBatchSoftmaxLoss {
 public:
  struct Rows {
    std::span<const int32_t> truth;       // [n] each row's candidate row in the candidate table
    std::span<const float> correction;    // [n] corr of each row's candidate (-log p), or empty
    std::span<const float> weights;       // [n] per-row loss weights, or empty (all 1)
    std::span<const int32_t> ids;         // [n] each row's candidate id: given, accidental hits are
                                          // left out; empty, they stay in
  };
  // UserError when the spans disagree in length, batch_size < 1, scale is not a finite number > 0
  // or a truth row is negative.
  InBatchSoftmaxLoss(const Rows& rows, int64_t batch_size, float scale);

  int64_t batch_size() const { return batch_; }
  int64_t batches() const { return static_cast<int64_t>(corr_max_.size()); }
  // The distinct candidate rows of batch b, ascending. The scores given to tile() for the rows of
  // batch b must have these candidates as their first columns, in this order (the rest after
  // them, in any order), so that the batch's logits are read contiguously.
  std::span<const int32_t> candidates(int64_t b) const;

  // Takes the scores of one tile (FactorizedTopK's ScoreTileFn): s[i·cols + j] is the score of
  // row row0 + i (of the evaluated rows; all in one batch b) against column col0 + j of that
  // batch's candidates, ordered as candidates(b) says. Tiles of different rows may come from
  // different threads at once; each row's tiles must come from one thread.
  void tile(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s);

  // Scores every evaluated row's query (queries: [n, d], row i the query of row i) against the
  // candidate table (candidates: [c, d], the rows truth indexes) into `top`, and takes this loss's
  // tiles from the same scores: each batch's queries against the table reordered with
  // candidates(b) first. ids: the candidates' ids for id-based top-k ([c] i32), or empty for
  // score-based. `top` counts as if the table were scored in its own order: score-based top-k counts
  // ties as hits, and id-based orders them by their row in the table. Batches run side by side, a
  // thread each, when there are at least twice as many as threads; else one at a time, each with
  // every thread. Each row's terms are taken against a bound on its logits from the norms
  // (scale·|q|·the batch's largest candidate norm, plus its largest correction) instead of
  // their maximum, which would cost a pass over every tile; a row whose terms underflow against
  // the bound is taken against its maximum.
  void score(const Tensor& queries, const Tensor& candidates, const Tensor& ids, FactorizedTopK& top);

  // The mean over batches of their summed losses, weighted by their rows. RuntimeFailure when a
  // row's own candidate was never in a tile.
  double result() const;

 private:
  // tile(), with each row r's terms taken against bound[r] (>= its logits) when bound is given,
  // else against the largest logit of the tile.
  void tile_with_bounds(int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s, const float* bound);
  std::span<const int32_t> candidates_of(int64_t b) const {
    return {cand_rows_.data() + cand_begin_[b], static_cast<size_t>(cand_begin_[b + 1] - cand_begin_[b])};
  }

  int64_t n_, batch_;
  float scale_;
  std::vector<int32_t> truth_, ids_;
  std::vector<float> corr_, weights_;
  // Each batch's distinct candidate rows (ascending), and each row's column among them.
  std::vector<int64_t> cand_begin_;  // [batches + 1]
  std::vector<int32_t> cand_rows_, own_col_;
  // Each batch's distinct (candidate, correction) pairs sorted by candidate: their column among
  // the batch's candidates, correction, how many of the batch's rows have them, and their
  // candidate id (for hits). Without a correction per row they are the candidates themselves.
  std::vector<int64_t> group_begin_;  // [batches + 1]
  std::vector<int32_t> group_col_, group_id_;
  std::vector<float> group_corr_, group_count_;
  std::vector<float> corr_max_;  // [batches] the largest correction in each batch
  // Per row, the running logsumexp over the tiles seen: its maximum and the sum of exp(z - max),
  // and the label's logit, once seen.
  std::vector<float> max_, label_;
  std::vector<uint8_t> seen_;
  std::vector<double> sum_;
};

}  // namespace dagrad::metrics
