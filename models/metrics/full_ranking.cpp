#include "models/metrics/full_ranking.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "graph/error.hpp"
#include "ops/kernels/kernels.hpp"

namespace dagrad::metrics {

FullRankingResult full_ranking(const Tensor& queries, const Tensor& candidates, std::span<const UserTruth> users,
                               std::span<const int64_t> ks, int64_t block_rows) {
  if (queries.dtype() != DType::f32 || candidates.dtype() != DType::f32 || queries.rank() != 2 ||
      candidates.rank() != 2 || queries.dim(1) != candidates.dim(1))
    throw UserError("full ranking: queries " + shape_str(queries.shape()) + " and candidates " +
                    shape_str(candidates.shape()) + " must be f32 [n, d] with the same d");
  const int64_t nu = queries.dim(0), nc = candidates.dim(0);
  if (static_cast<int64_t>(users.size()) != nu)
    throw UserError("full ranking: " + std::to_string(nu) + " queries for " + std::to_string(users.size()) + " users");
  if (ks.empty()) throw UserError("full ranking: no k given");
  for (int64_t k : ks)
    if (k < 1) throw UserError("full ranking: k must be at least 1, got " + std::to_string(k));
  for (size_t u = 0; u < users.size(); ++u)
    for (const auto* list : {&users[u].truth, &users[u].masked})
      for (int32_t r : *list)
        if (r < 0 || r >= nc)
          throw UserError("full ranking: user " + std::to_string(u) + " names candidate row " + std::to_string(r) +
                          " outside [0, " + std::to_string(nc) + ")");
  const int64_t kmax = std::min<int64_t>(*std::max_element(ks.begin(), ks.end()), nc);
  // 1 / log2(r + 2) for ranks 0..kmax-1, and its prefix sums (the ideal DCGs).
  std::vector<double> gain(static_cast<size_t>(kmax)), ideal(static_cast<size_t>(kmax) + 1, 0.0);
  for (int64_t r = 0; r < kmax; ++r) {
    gain[r] = 1.0 / std::log2(static_cast<double>(r) + 2.0);
    ideal[r + 1] = ideal[r] + gain[r];
  }
  FullRankingResult out;
  out.ks.assign(ks.begin(), ks.end());
  out.recall.assign(ks.size(), 0.0);
  out.ndcg.assign(ks.size(), 0.0);
  out.hit.assign(ks.size(), 0.0);
  Tensor scores;
  const int64_t block = std::max<int64_t>(1, block_rows);
  for (int64_t b = 0; b < nu; b += block) {
    const int64_t e = std::min(nu, b + block);
    Tensor s = grown_view(scores, {e - b, nc});
    gemm(queries.rows(b, e), false, candidates, true, s, false);
    std::vector<std::vector<double>> partial(static_cast<size_t>(e - b), std::vector<double>(3 * ks.size(), 0.0));
    std::vector<char> counted(static_cast<size_t>(e - b), 0);
#pragma omp parallel
    {
      std::vector<int32_t> order(static_cast<size_t>(nc));
      std::vector<char> is_true(static_cast<size_t>(nc), 0);
#pragma omp for schedule(dynamic, 8)
      for (int64_t q = 0; q < e - b; ++q) {
        const UserTruth& user = users[static_cast<size_t>(b + q)];
        if (user.truth.empty()) continue;
        float* row = s.f32() + q * nc;
        for (int32_t m : user.masked) row[m] = -std::numeric_limits<float>::infinity();
        std::iota(order.begin(), order.end(), 0);
        auto better = [row](int32_t x, int32_t y) { return row[x] > row[y] || (row[x] == row[y] && x < y); };
        std::partial_sort(order.begin(), order.begin() + kmax, order.end(), better);
        for (int32_t t : user.truth) is_true[t] = 1;
        // Distinct true candidates (a repeated row counts once).
        int64_t n_true = 0;
        for (int32_t t : user.truth) n_true += is_true[t] == 1 ? (is_true[t] = 2, 1) : 0;
        std::vector<double>& p = partial[static_cast<size_t>(q)];
        for (size_t i = 0; i < ks.size(); ++i) {
          const int64_t k = std::min<int64_t>(ks[i], nc);
          int64_t hits = 0;
          double dcg = 0;
          for (int64_t r = 0; r < k; ++r) {
            if (row[order[r]] == -std::numeric_limits<float>::infinity()) break;  // only masked ones left
            if (is_true[order[r]]) {
              ++hits;
              dcg += gain[r];
            }
          }
          p[3 * i] = static_cast<double>(hits) / static_cast<double>(n_true);
          p[3 * i + 1] = dcg / ideal[static_cast<size_t>(std::min(n_true, k))];
          p[3 * i + 2] = hits > 0 ? 1.0 : 0.0;
        }
        for (int32_t t : user.truth) is_true[t] = 0;
        counted[static_cast<size_t>(q)] = 1;
      }
    }
    // Summed in user order: the result does not depend on the thread count.
    for (int64_t q = 0; q < e - b; ++q) {
      if (!counted[static_cast<size_t>(q)]) continue;
      ++out.users;
      for (size_t i = 0; i < ks.size(); ++i) {
        out.recall[i] += partial[q][3 * i];
        out.ndcg[i] += partial[q][3 * i + 1];
        out.hit[i] += partial[q][3 * i + 2];
      }
    }
  }
  if (out.users == 0) throw UserError("full ranking: no user has a true candidate");
  for (size_t i = 0; i < ks.size(); ++i) {
    out.recall[i] /= static_cast<double>(out.users);
    out.ndcg[i] /= static_cast<double>(out.users);
    out.hit[i] /= static_cast<double>(out.users);
  }
  return out;
}

}  // namespace dagrad::metrics
