// models/metrics/full_ranking.cpp: recall@k, ndcg@k and hit@k per user with masked candidates,
// worked out by hand; ties, k beyond the candidate count, users without truth, and bad input.
#include <doctest/doctest.h>

#include <cmath>

#include "graph/error.hpp"
#include "models/metrics/full_ranking.hpp"

using namespace dagrad;
using dagrad::metrics::UserTruth;

namespace {
// Candidates on a line: rows 0..3 score 4q, 3q, 2q, q for a query q.
Tensor line_candidates() { return Tensor::from({4, 1}, std::vector<float>{4, 3, 2, 1}); }
const double kIdeal2 = 1.0 + 1.0 / std::log2(3.0);  // the ideal DCG of two true candidates
}  // namespace

TEST_CASE("full ranking: recall, ndcg and hit per user with masked candidates, by hand") {
  // User A, query 1: ranking 0, 1, 2, 3; row 0 masked (seen in training): 1, 2, 3. Truth {1, 3}.
  //   k=1: [1]: 1 hit: recall 1/2, dcg 1 / ideal 1 = 1, hit 1
  //   k=3: [1, 2, 3]: hits at ranks 0 and 2: recall 1, dcg 1 + 1/log2(4) = 1.5, ndcg 1.5 / kIdeal2
  // User B, query -1: ranking 3, 2, 1, 0. Truth {0}: k=1 and k=3 miss it: all 0.
  // User C has no truth: not counted.
  Tensor q = Tensor::from({3, 1}, std::vector<float>{1, -1, 5});
  std::vector<UserTruth> users{{{1, 3}, {0}}, {{0}, {}}, {{}, {2}}};
  const std::vector<int64_t> ks{1, 3, 10};
  auto r = metrics::full_ranking(q, line_candidates(), users, ks);
  CHECK(r.users == 2);
  CHECK(r.recall[0] == doctest::Approx(0.25));
  CHECK(r.ndcg[0] == doctest::Approx(0.5));
  CHECK(r.hit[0] == doctest::Approx(0.5));
  CHECK(r.recall[1] == doctest::Approx(0.5));
  CHECK(r.ndcg[1] == doctest::Approx(1.5 / kIdeal2 / 2));
  CHECK(r.hit[1] == doctest::Approx(0.5));
  // k=10 > 4 candidates: everything unmasked is retrieved. A: as k=3. B: 0 at rank 3: recall 1,
  // ndcg 1/log2(5) / 1, hit 1.
  CHECK(r.recall[2] == doctest::Approx((1.0 + 1.0) / 2));
  CHECK(r.ndcg[2] == doctest::Approx((1.5 / kIdeal2 + 1.0 / std::log2(5.0)) / 2));
  CHECK(r.hit[2] == doctest::Approx(1.0));
  // Block sizes do not change the result.
  auto one = metrics::full_ranking(q, line_candidates(), users, ks, 1);
  CHECK(one.recall == r.recall);
  CHECK(one.ndcg == r.ndcg);
}

TEST_CASE("full ranking: ties go to the lower candidate row; a masked true candidate cannot be retrieved") {
  Tensor c = Tensor::from({3, 1}, std::vector<float>{1, 1, 1});  // every score ties
  Tensor q = Tensor::from({1, 1}, std::vector<float>{1});
  const std::vector<int64_t> k1{1};
  std::vector<UserTruth> first{{{0}, {}}}, second{{{1}, {}}};
  CHECK(metrics::full_ranking(q, c, first, k1).recall[0] == 1.0);
  CHECK(metrics::full_ranking(q, c, second, k1).recall[0] == 0.0);
  // Truth {0, 1}, row 0 masked: row 1 comes first: 1 hit of 2 true.
  std::vector<UserTruth> masked{{{0, 1}, {0}}};
  CHECK(metrics::full_ranking(q, c, masked, k1).recall[0] == 0.5);
  // Everything masked: nothing is retrieved, no hit, no error.
  std::vector<UserTruth> all{{{2}, {0, 1, 2}}};
  CHECK(metrics::full_ranking(q, c, all, std::vector<int64_t>{3}).hit[0] == 0.0);
  // A repeated true row counts once.
  std::vector<UserTruth> twice{{{0, 0}, {}}};
  CHECK(metrics::full_ranking(q, c, twice, k1).recall[0] == 1.0);
}

TEST_CASE("full ranking rejects bad input with a reason") {
  Tensor q = Tensor::from({1, 1}, std::vector<float>{1});
  const std::vector<int64_t> k1{1};
  std::vector<UserTruth> bad_row{{{7}, {}}};
  CHECK_THROWS_WITH_AS(metrics::full_ranking(q, line_candidates(), bad_row, k1),
                       doctest::Contains("candidate row 7 outside [0, 4)"), UserError);
  std::vector<UserTruth> ok{{{1}, {}}};
  CHECK_THROWS_WITH_AS(metrics::full_ranking(q, line_candidates(), ok, std::vector<int64_t>{0}),
                       doctest::Contains("k must be at least 1"), UserError);
  CHECK_THROWS_WITH_AS(metrics::full_ranking(q, Tensor::from({1, 2}, std::vector<float>{1, 2}), ok, k1),
                       doctest::Contains("same d"), UserError);
  std::vector<UserTruth> none{{{}, {}}};
  CHECK_THROWS_WITH_AS(metrics::full_ranking(q, line_candidates(), none, k1), doctest::Contains("no user"), UserError);
}
