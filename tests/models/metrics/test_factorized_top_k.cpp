// models/metrics/factorized_top_k.cpp: hand-worked 3 x 4 cases for both variants, ties, duplicate
// ids, blockwise == all-at-once, a brute-force reference on tie-heavy data and on real-valued data
// over several tiles of candidates (the exact order), the tiles a visitor sees, and input errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "models/metrics/factorized_top_k.hpp"

using namespace dagrad;
using metrics::FactorizedTopK;
using metrics::factorized_top_k;

namespace {

// Candidates (D = 2): c0 = [1, 0], c1 = [0, 1], c2 = [1, 1], c3 = [-1, 0].
// Queries and their score rows q·c0 .. q·c3:
//   q0 = [1, 0] -> [ 1, 0, 1, -1]
//   q1 = [0, 2] -> [ 0, 2, 2,  0]
//   q2 = [2, 1] -> [ 2, 1, 3, -2]
Tensor hand_candidates() { return Tensor::from({4, 2}, std::vector<float>{1, 0, 0, 1, 1, 1, -1, 0}); }
Tensor hand_queries() { return Tensor::from({3, 2}, std::vector<float>{1, 0, 0, 2, 2, 1}); }
const std::vector<int64_t> kKs{1, 2, 3, 4};

void check_accuracy(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("k index " << i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  }
}

// Small integer embeddings: every dot product is exact in float and ties are everywhere.
Tensor integer_matrix(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::uniform_int_distribution<int> u(-2, 2);
  std::vector<float> v(rows * cols);
  for (auto& x : v) x = static_cast<float>(u(rng));
  return Tensor::from({rows, cols}, v);
}

Tensor random_ids(int64_t n, int32_t lo, int32_t hi, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> u(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = u(rng);
  return Tensor::from_ids({n}, v);
}

double dot(const Tensor& a, int64_t i, const Tensor& b, int64_t j) {
  double s = 0;
  for (int64_t d = 0; d < a.dim(1); ++d) s += double(a.f32()[i * a.dim(1) + d]) * b.f32()[j * b.dim(1) + d];
  return s;
}

// Brute force: full stable sort of every row (the very thing the metric avoids).
std::vector<int64_t> reference_hits(const Tensor& q, const Tensor& c, const Tensor* ids, const Tensor& ti,
                                    const std::vector<int64_t>& ks) {
  std::vector<int64_t> hits(ks.size(), 0);
  const int64_t nc = c.dim(0);
  for (int64_t i = 0; i < q.dim(0); ++i) {
    std::vector<double> s(nc);
    for (int64_t j = 0; j < nc; ++j) s[j] = dot(q, i, c, j);
    const int32_t t = ti.i32()[i];
    if (!ids) {
      int64_t higher = 0;
      for (int64_t j = 0; j < nc; ++j) higher += s[j] > s[t];
      for (size_t k = 0; k < ks.size(); ++k) hits[k] += higher < ks[k];
    } else {
      std::vector<int32_t> order(nc);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return s[a] > s[b]; });
      for (size_t k = 0; k < ks.size(); ++k) {
        bool hit = false;
        for (int64_t r = 0; r < std::min<int64_t>(ks[k], nc); ++r) hit |= ids->i32()[order[r]] == ids->i32()[t];
        hits[k] += hit;
      }
    }
  }
  return hits;
}

}  // namespace

TEST_CASE("FactorizedTopK score-based, 3 queries x 4 candidates by hand") {
  // true_index = [1, 2, 3]:
  //   q0: true c1 scores 0; strictly higher: c0 (1), c2 (1)        -> 2 higher: hit at k >= 3
  //   q1: true c2 scores 2; c1 ties at 2 (a tie counts as a hit)    -> 0 higher: hit at k >= 1
  //   q2: true c3 scores -2; higher: c0, c1, c2                     -> 3 higher: hit at k >= 4
  // k = 1: {q1} 1/3; k = 2: {q1} 1/3; k = 3: {q0, q1} 2/3; k = 4: all 3/3.
  Tensor ti = Tensor::from_ids({3}, std::vector<int32_t>{1, 2, 3});
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), ti, kKs), {1.0 / 3, 1.0 / 3, 2.0 / 3, 1.0});

  FactorizedTopK m(kKs);
  m.update(hand_queries(), hand_candidates(), ti);
  CHECK(m.hits() == std::vector<int64_t>{1, 1, 2, 3});
  CHECK(m.queries() == 3);
}

TEST_CASE("FactorizedTopK score-based counts ties with the true score as hits") {
  // true_index = [0, 1, 2]:
  //   q0: true c0 scores 1; c2 ties at 1, nothing higher           -> 0 higher: hit at k = 1
  //   q1: true c1 scores 2; c2 ties at 2, nothing higher           -> 0 higher: hit at k = 1
  //   q2: true c2 scores 3, the maximum                             -> 0 higher: hit at k = 1
  Tensor ti = Tensor::from_ids({3}, std::vector<int32_t>{0, 1, 2});
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), ti, std::vector<int64_t>{1}), {1.0});

  // Every candidate equal: every score ties, so every query is a hit even at k = 1.
  Tensor same = Tensor::from({4, 2}, std::vector<float>{0.3f, 0.7f, 0.3f, 0.7f, 0.3f, 0.7f, 0.3f, 0.7f});
  check_accuracy(factorized_top_k(hand_queries(), same, Tensor::from_ids({3}, std::vector<int32_t>{3, 0, 2}),
                                  std::vector<int64_t>{1}),
                 {1.0});
}

TEST_CASE("FactorizedTopK id-based, 3 x 4 by hand with duplicate ids") {
  // ids = [10, 20, 30, 20]: c1 and c3 share id 20. Retrieval order (score desc, lower row first):
  //   q0 [ 1, 0, 1, -1]: c0, c2, c1, c3. true c1 (id 20): first id-20 row is c1 at rank 2 -> k >= 3
  //   q1 [ 0, 2, 2,  0]: c1, c2, c0, c3. true c2 (id 30): c2 at rank 1 (the tie goes to c1) -> k >= 2
  //   q2 [ 2, 1, 3, -2]: c2, c0, c1, c3. true c3 (id 20): the duplicate c1 at rank 2     -> k >= 3
  // k = 1: 0/3; k = 2: {q1} 1/3; k = 3: all 3/3; k = 4: 3/3.
  // (Score-based, q1 is a hit at k = 1 through the tie; q2 only at k = 4 without the duplicate.)
  Tensor ids = Tensor::from_ids({4}, std::vector<int32_t>{10, 20, 30, 20});
  Tensor ti = Tensor::from_ids({3}, std::vector<int32_t>{1, 2, 3});
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), ids, ti, kKs), {0.0, 1.0 / 3, 1.0, 1.0});

  // All ids distinct = plain retrieval of the true row; ties go to the lower row:
  //   q0: true c1 at rank 2 -> k >= 3; q1: true c2 at rank 1 -> k >= 2; q2: true c3 at rank 3 -> k = 4.
  Tensor distinct = Tensor::from_ids({4}, std::vector<int32_t>{7, 5, 3, 1});
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), distinct, ti, kKs),
                 {0.0, 1.0 / 3, 2.0 / 3, 1.0});
}

TEST_CASE("FactorizedTopK k beyond the candidate count is always a hit") {
  Tensor ti = Tensor::from_ids({3}, std::vector<int32_t>{3, 3, 3});
  // True c3 for every query: q0 [1, 0, 1, -1] has 3 scores above -1; q1 [0, 2, 2, 0] has 2 above 0
  // (c0 ties); q2 [2, 1, 3, -2] has 3 above -2. k = 3: {q1} 1/3; k = 100 > 4 candidates: all 3/3.
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), ti, std::vector<int64_t>{3, 100}),
                 {1.0 / 3, 1.0});
  // Id-based (distinct ids) retrieves all 4 rows at k = 100: all 3/3.
  Tensor ids = Tensor::from_ids({4}, std::vector<int32_t>{0, 1, 2, 3});
  check_accuracy(factorized_top_k(hand_queries(), hand_candidates(), ids, ti, std::vector<int64_t>{100}), {1.0});
}

TEST_CASE("FactorizedTopK blockwise and merged results equal all-at-once exactly") {
  std::mt19937 rng(7);
  const int64_t nq = 1000, nc = 300, d = 4;
  Tensor q = integer_matrix(nq, d, rng), c = integer_matrix(nc, d, rng);
  Tensor ti = random_ids(nq, 0, nc - 1, rng);
  Tensor ids = random_ids(nc, 0, 60, rng);  // about 5 rows per id
  const std::vector<int64_t> ks{1, 5, 10, 50, 100};

  for (bool by_id : {false, true}) {
    INFO("id-based: " << by_id);
    auto update = [&](FactorizedTopK& m, int64_t b, int64_t e) {
      Tensor ti_part = ti.rows(b, e);
      if (by_id) m.update(q.rows(b, e), c, ids, ti_part);
      else m.update(q.rows(b, e), c, ti_part);
    };
    FactorizedTopK whole(ks, 4096);
    update(whole, 0, nq);
    // The brute-force reference on these tie-heavy scores.
    CHECK(whole.hits() == reference_hits(q, c, by_id ? &ids : nullptr, ti, ks));

    FactorizedTopK small_blocks(ks, 7);  // 142 blocks of 7 and a tail of 6
    update(small_blocks, 0, nq);
    CHECK(small_blocks.hits() == whole.hits());

    FactorizedTopK streamed(ks), other(ks);
    update(streamed, 0, 333);
    update(streamed, 333, 333);  // an empty block adds nothing
    update(streamed, 333, 700);
    update(other, 700, nq);
    streamed.merge(other);
    CHECK(streamed.hits() == whole.hits());
    CHECK(streamed.queries() == nq);
    CHECK(streamed.result() == whole.result());
  }
}

TEST_CASE("FactorizedTopK takes the true score from the score matrix itself") {
  // Non-integer embeddings, so a dot product computed apart from the matrix product could round
  // differently. The true candidate is each query's best by a double reference with a clear gap
  // to the runner-up, so it must be a hit at k = 1 for every query.
  std::mt19937 rng(11);
  std::normal_distribution<float> n01;
  const int64_t nq = 400, nc = 257, d = 32;
  std::vector<float> qv(nq * d), cv(nc * d);
  for (auto& x : qv) x = n01(rng);
  for (auto& x : cv) x = n01(rng);
  Tensor q = Tensor::from({nq, d}, qv), c = Tensor::from({nc, d}, cv);
  std::vector<int32_t> best(nq);
  for (int64_t i = 0; i < nq; ++i) {
    std::vector<double> s(nc);
    for (int64_t j = 0; j < nc; ++j) s[j] = dot(q, i, c, j);
    best[i] = static_cast<int32_t>(std::max_element(s.begin(), s.end()) - s.begin());
    std::nth_element(s.begin(), s.begin() + 1, s.end(), std::greater<>());
    REQUIRE(s[0] - s[1] > 1e-3);  // the data has a unique, well-separated best for each query
  }
  Tensor ti = Tensor::from_ids({nq}, best);
  check_accuracy(factorized_top_k(q, c, ti, std::vector<int64_t>{1}), {1.0});
  std::vector<int32_t> id_values(nc);
  std::iota(id_values.begin(), id_values.end(), 0);
  check_accuracy(factorized_top_k(q, c, Tensor::from_ids({nc}, id_values), ti, std::vector<int64_t>{1}), {1.0});
}

TEST_CASE("FactorizedTopK orders by the exact dot product over several tiles of candidates") {
  // Real-valued embeddings, 1,300 candidates (three tiles of columns), and exact ties planted
  // across tiles: candidate rows 1000+ repeat rows 0+ (an equal embedding scores the same exactly,
  // whichever tile it is in), and some queries' true candidate is the repeat. The brute-force
  // reference orders by the double dot product; the metric must agree query for query.
  std::mt19937 rng(5);
  std::normal_distribution<float> n01;
  const int64_t nq = 700, nc = 1300, d = 32;
  std::vector<float> qv(nq * d), cv(nc * d);
  for (auto& x : qv) x = n01(rng);
  for (auto& x : cv) x = n01(rng);
  for (int64_t j = 1000; j < nc; ++j) std::copy_n(cv.begin() + (j - 1000) * d, d, cv.begin() + j * d);
  Tensor q = Tensor::from({nq, d}, qv), c = Tensor::from({nc, d}, cv);
  Tensor ti = random_ids(nq, 0, nc - 1, rng);
  Tensor ids = random_ids(nc, 0, 400, rng);  // about 3 rows per id
  const std::vector<int64_t> ks{1, 3, 10, 100, 1000};
  for (bool by_id : {false, true}) {
    INFO("id-based: " << by_id);
    const auto expected = reference_hits(q, c, by_id ? &ids : nullptr, ti, ks);
    for (int64_t block : {int64_t{1}, int64_t{37}, FactorizedTopK::kDefaultBlockRows, int64_t{1000}}) {
      INFO("block rows " << block);
      FactorizedTopK m(ks, block);
      if (by_id) m.update(q, c, ids, ti);
      else m.update(q, c, ti);
      CHECK(m.hits() == expected);
    }
  }
  // The same candidates reversed, each with its table row as row_of: the same hits, ties (the
  // repeats) still going to the lower table row.
  std::vector<float> rv(nc * d);
  std::vector<int32_t> rev_ids(nc), row_of(nc), rev_ti(nq);
  for (int64_t j = 0; j < nc; ++j) {
    std::copy_n(cv.begin() + (nc - 1 - j) * d, d, rv.begin() + j * d);
    rev_ids[j] = ids.i32()[nc - 1 - j];
    row_of[j] = static_cast<int32_t>(nc - 1 - j);
  }
  for (int64_t i = 0; i < nq; ++i) rev_ti[i] = static_cast<int32_t>(nc - 1 - ti.i32()[i]);
  FactorizedTopK reversed(ks);
  reversed.update(q, Tensor::from({nc, d}, rv), Tensor::from_ids({nc}, rev_ids), Tensor::from_ids({nq}, rev_ti), nullptr,
                  row_of);
  CHECK(reversed.hits() == reference_hits(q, c, &ids, ti, ks));
  // The tie at k = 1: a query whose true candidate j >= 1000 scores exactly as row j - 1000, so
  // score-based it is a hit at 1 when it is the best; id-based (distinct ids), the lower row wins.
  std::vector<float> one(qv.begin(), qv.begin() + d);
  Tensor q1 = Tensor::from({1, d}, one);
  int32_t best = 0;
  for (int32_t j = 1; j < 1000; ++j)
    if (dot(q1, 0, c, j) > dot(q1, 0, c, best)) best = j;
  Tensor repeat = Tensor::from_ids({1}, std::vector<int32_t>{best + 1000});
  check_accuracy(factorized_top_k(q1, c, repeat, std::vector<int64_t>{1}), {1.0});
  std::vector<int32_t> distinct(nc);
  std::iota(distinct.begin(), distinct.end(), 0);
  Tensor distinct_ids = Tensor::from_ids({nc}, distinct);
  check_accuracy(factorized_top_k(q1, c, distinct_ids, repeat, std::vector<int64_t>{1, 2}), {0.0, 1.0});
}

TEST_CASE("FactorizedTopK shows a visitor every score once, in tiles") {
  std::mt19937 rng(9);
  std::normal_distribution<float> n01;
  const int64_t nq = 300, nc = 1100, d = 8;
  std::vector<float> qv(nq * d), cv(nc * d);
  for (auto& x : qv) x = n01(rng);
  for (auto& x : cv) x = n01(rng);
  Tensor q = Tensor::from({nq, d}, qv), c = Tensor::from({nc, d}, cv);
  Tensor ti = random_ids(nq, 0, nc - 1, rng);
  std::vector<int> seen(nq * nc, 0);
  // Per row, as tiles of different rows arrive from several threads at once.
  std::vector<int64_t> last_col(nq, -1);
  std::vector<double> worst(nq, 0);
  std::vector<char> in_order(nq, 1);
  metrics::ScoreTileFn visit = [&](int64_t row0, int64_t rows, int64_t col0, int64_t cols, const float* s) {
    for (int64_t r = row0; r < row0 + rows; ++r) {
      in_order[r] &= col0 > last_col[r];  // each row's tiles come in column order
      last_col[r] = col0;
      for (int64_t j = 0; j < cols; ++j) {
        ++seen[r * nc + col0 + j];
        worst[r] = std::max(worst[r], std::fabs(s[(r - row0) * cols + j] - dot(q, r, c, col0 + j)));
      }
    }
  };
  FactorizedTopK m({1, 10}, 50);
  m.update(q, c, ti, &visit);
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  CHECK(std::all_of(in_order.begin(), in_order.end(), [](char ok) { return ok == 1; }));
  CHECK(*std::max_element(worst.begin(), worst.end()) < 1e-5);
}

TEST_CASE("FactorizedTopK rejects empty and malformed input") {
  Tensor q = hand_queries(), c = hand_candidates();
  Tensor ti = Tensor::from_ids({3}, std::vector<int32_t>{1, 2, 3});
  Tensor ids = Tensor::from_ids({4}, std::vector<int32_t>{10, 20, 30, 20});

  // Nothing to report: no update, or only empty ones.
  FactorizedTopK m(kKs);
  CHECK_THROWS_AS(m.result(), UserError);
  m.update(Tensor({0, 2}), c, Tensor({0}, DType::i32));
  CHECK_THROWS_AS(m.result(), UserError);
  CHECK_THROWS_AS(factorized_top_k(Tensor({0, 2}), c, Tensor({0}, DType::i32), kKs), UserError);
  // No candidates.
  CHECK_THROWS_AS(factorized_top_k(q, Tensor({0, 2}), ti, kKs), UserError);
  // Bad ks.
  CHECK_THROWS_AS(FactorizedTopK(std::vector<int64_t>{}), UserError);
  CHECK_THROWS_AS(FactorizedTopK(std::vector<int64_t>{1, 0}), UserError);
  CHECK_THROWS_AS(FactorizedTopK(kKs, 0), UserError);
  // Shapes and dtypes.
  CHECK_THROWS_AS(factorized_top_k(q, Tensor({4, 3}), ti, kKs), UserError);
  CHECK_THROWS_AS(factorized_top_k(q, c, Tensor::from_ids({2}, std::vector<int32_t>{1, 2}), kKs), UserError);
  CHECK_THROWS_AS(factorized_top_k(q, c, Tensor::from({3}, std::vector<float>{1, 2, 3}), kKs), UserError);
  CHECK_THROWS_AS(factorized_top_k(q.reshape({6}), c, ti, kKs), UserError);
  CHECK_THROWS_AS(factorized_top_k(q, c, Tensor::from_ids({3}, std::vector<int32_t>{1, 4, 0}), kKs), UserError);
  CHECK_THROWS_AS(factorized_top_k(q, c, Tensor::from_ids({3}, std::vector<int32_t>{10, 20, 30}), ti, kKs),
                  UserError);
  // One variant per accumulator; a failed update leaves it unchanged.
  FactorizedTopK mixed(kKs);
  mixed.update(q, c, ti);
  CHECK_THROWS_AS(mixed.update(q, c, ids, ti), UserError);
  CHECK(mixed.hits() == std::vector<int64_t>{1, 1, 2, 3});
  CHECK(mixed.queries() == 3);
  mixed.reset();
  mixed.update(q, c, ids, ti);
  CHECK(mixed.hits() == std::vector<int64_t>{0, 1, 3, 3});
  CHECK_THROWS_AS(mixed.merge(FactorizedTopK(std::vector<int64_t>{1})), UserError);
  // Non-finite embeddings are a failed run, not a score.
  Tensor bad = c.clone();
  bad.f32()[5] = std::nanf("");
  CHECK_THROWS_AS(factorized_top_k(q, bad, ti, kKs), RuntimeFailure);
  bad = q.clone();
  bad.f32()[0] = INFINITY;
  CHECK_THROWS_AS(factorized_top_k(bad, c, ids, ti, kKs), RuntimeFailure);
  // Finite embeddings whose scores could overflow f32: |q| |c| >= 3e38 * sqrt(2) * 1 > FLT_MAX / 2.
  FactorizedTopK overflow(kKs);
  overflow.update(q, c, ti);
  Tensor big_q = Tensor::from({1, 2}, std::vector<float>{3e38f, 0});
  CHECK_THROWS_AS(overflow.update(big_q, c, Tensor::from_ids({1}, std::vector<int32_t>{1})), RuntimeFailure);
  // 1e20 * 1e20 = 1e40 overflows although each value is an ordinary float.
  Tensor q20 = Tensor::from({1, 2}, std::vector<float>{1e20f, 0}), c20 = Tensor::from({1, 2}, std::vector<float>{1e20f, 0});
  CHECK_THROWS_AS(overflow.update(q20, c20, Tensor::from_ids({1}, std::vector<int32_t>{0})), RuntimeFailure);
  CHECK(overflow.hits() == std::vector<int64_t>{1, 1, 2, 3});
  CHECK(overflow.queries() == 3);
}
