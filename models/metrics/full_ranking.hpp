// Per-user full ranking (RecBole's "full" evaluation mode): each user's query embedding is scored
// against every candidate, the candidates the user already interacted with (in training) are
// masked out, and the k best remaining candidates are compared with the user's true candidates
// (their items in the evaluated split). Binary relevance, averaged over users:
//   Recall@k = hits in the top k / |truth|
//   NDCG@k   = Σ_{hit at rank r (0-based)} 1 / log2(r + 2), divided by the ideal
//              Σ_{r < min(|truth|, k)} 1 / log2(r + 2)
//   Hit@k    = 1 if any true candidate is in the top k
// Ties in score go to the lower candidate row (as tf.math.top_k). A true candidate that is also
// masked cannot be retrieved but still counts in |truth| (RecBole does the same).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad::metrics {

struct UserTruth {
  std::vector<int32_t> truth;   // candidate rows the user interacted with in the evaluated split
  std::vector<int32_t> masked;  // candidate rows to leave out of the user's ranking
};

struct FullRankingResult {
  std::vector<int64_t> ks;
  std::vector<double> recall, ndcg, hit;  // per k, averaged over users with a nonempty truth
  int64_t users = 0;
};

// queries f32 [U, D], one row per user, in the order of `users`; candidates f32 [Nc, D].
// UserError for bad shapes, rows outside [0, Nc), or ks < 1; users with no truth are skipped.
FullRankingResult full_ranking(const Tensor& queries, const Tensor& candidates, std::span<const UserTruth> users,
                               std::span<const int64_t> ks, int64_t block_rows = 256);

}  // namespace dagrad::metrics
