// models/metrics/in_batch_loss.cpp: a hand-worked batch, and random batches (repeated candidates,
// a partial last batch, candidates over several tiles) against the in-batch softmax computed
// directly, batch by batch, in double, with every option: scale, correction, weights and the
// removal of accidental hits.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "models/metrics/in_batch_loss.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;
using metrics::InBatchSoftmaxLoss;

namespace {

double dot_product(const std::vector<float>& a, int64_t i, const std::vector<float>& b, int64_t j, int64_t d) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k) s += double(a[i * d + k]) * b[j * d + k];
  return s;
}

// The loss as the Retrieval task defines it, from the batch's own logits.
double reference(const std::vector<float>& q, const std::vector<float>& c, int64_t d, const std::vector<int32_t>& truth,
                 const std::vector<float>& corr, const std::vector<float>& w, const std::vector<int32_t>& ids,
                 int64_t batch, double scale) {
  const int64_t n = static_cast<int64_t>(truth.size());
  double weighted = 0;
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    double sum = 0;
    for (int64_t i = b0; i < b1; ++i) {
      std::vector<double> z;
      double zl = 0;
      for (int64_t j = b0; j < b1; ++j) {
        const double x = scale * dot_product(q, i, c, truth[j], d) + (corr.empty() ? 0.0 : corr[j]);
        if (j == i) zl = x;
        if (j != i && !ids.empty() && ids[j] == ids[i]) continue;
        z.push_back(x);
      }
      double m = z[0];
      for (double x : z) m = std::max(m, x);
      double e = 0;
      for (double x : z) e += std::exp(x - m);
      sum += (w.empty() ? 1.0 : w[i]) * (std::log(e) + m - zl);
    }
    weighted += sum * static_cast<double>(b1 - b0);
  }
  return weighted / static_cast<double>(n);
}

// Feeds the loss the scores of every query against every candidate as the Retrieval task does:
// each batch's rows against the candidates reordered with the batch's own first, in tiles of
// `rows` x `cols`, each row's tiles in column order.
void feed(InBatchSoftmaxLoss& loss, const std::vector<float>& q, const std::vector<float>& c, int64_t d, int64_t rows,
          int64_t cols) {
  const int64_t nq = static_cast<int64_t>(q.size()) / d, nc = static_cast<int64_t>(c.size()) / d;
  std::vector<float> s;
  for (int64_t b = 0; b < loss.batches(); ++b) {
    std::vector<int32_t> order(loss.candidates(b).begin(), loss.candidates(b).end());
    std::vector<char> first(nc, 0);
    for (int32_t j : order) first[j] = 1;
    for (int32_t j = nc - 1; j >= 0; --j)  // the rest in any order: here descending
      if (!first[j]) order.push_back(j);
    REQUIRE(static_cast<int64_t>(order.size()) == nc);
    const int64_t b0 = b * loss.batch_size(), b1 = std::min(nq, b0 + loss.batch_size());
    for (int64_t r0 = b0; r0 < b1; r0 += rows)
      for (int64_t c0 = 0; c0 < nc; c0 += cols) {
        const int64_t nr = std::min(rows, b1 - r0), ncols = std::min(cols, nc - c0);
        s.assign(static_cast<size_t>(nr * ncols), 0.0f);
        for (int64_t i = 0; i < nr; ++i)
          for (int64_t j = 0; j < ncols; ++j) s[i * ncols + j] = static_cast<float>(dot_product(q, r0 + i, c, order[c0 + j], d));
        loss.tile(r0, nr, c0, ncols, s.data());
      }
  }
}

}  // namespace

TEST_CASE("InBatchSoftmaxLoss by hand: one batch of three rows, two of one candidate") {
  // Candidates (1, 0), (0, 1); rows' truth 0, 0, 1; queries (1, 0), (0, 1), (1, 1).
  // Scores against the batch's columns (c0, c0, c1):
  //   row 0: (1, 1, 0): ln(2e + 1) - 1 = 0.86199480
  //   row 1: (0, 0, 1): ln(2 + e) - 0 = 1.55144471
  //   row 2: (1, 1, 1): ln(3e) - 1 = ln 3 = 1.09861229
  // sum 3.51205180; one batch of 3 rows: the mean over batches is the sum.
  const std::vector<float> q{1, 0, 0, 1, 1, 1}, c{1, 0, 0, 1};
  const std::vector<int32_t> truth{0, 0, 1};
  InBatchSoftmaxLoss loss({truth, {}, {}, {}}, 3, 1.0f);
  CHECK(loss.batches() == 1);
  CHECK(std::vector<int32_t>(loss.candidates(0).begin(), loss.candidates(0).end()) == std::vector<int32_t>{0, 1});
  feed(loss, q, c, 2, 2, 1);
  CHECK(loss.result() == doctest::Approx(3.51205180));
  // Removing accidental hits (ids = the candidates'): row 0 leaves out row 1's column and row 1
  // row 0's: row 0 ln(e + 1) - 1 = 0.31326169, row 1 ln(1 + e) - 0 = 1.31326169, row 2 ln 3.
  const std::vector<int32_t> ids{7, 7, 9};
  InBatchSoftmaxLoss hits({truth, {}, {}, ids}, 3, 1.0f);
  feed(hits, q, c, 2, 3, 2);
  CHECK(hits.result() == doctest::Approx(0.31326169 + 1.31326169 + 1.09861229));
}

TEST_CASE("InBatchSoftmaxLoss equals the in-batch softmax computed batch by batch") {
  std::mt19937 rng(3);
  std::normal_distribution<float> n01;
  const int64_t n = 530, nc = 1200, d = 6, batch = 64;  // 8 full batches and one of 18
  std::vector<float> q(n * d), c(nc * d);
  for (auto& x : q) x = n01(rng);
  for (auto& x : c) x = n01(rng);
  // Popular candidates: most rows share a few, as in real logs.
  std::vector<int32_t> truth(n), ids(n);
  std::uniform_int_distribution<int32_t> any(0, nc - 1), popular(0, 20);
  std::bernoulli_distribution pick_popular(0.6);
  for (int64_t i = 0; i < n; ++i) {
    truth[i] = pick_popular(rng) ? popular(rng) * 50 : any(rng);
    ids[i] = truth[i] / 2;  // two candidate rows per id
  }
  std::vector<float> corr(n), w(n);
  std::uniform_real_distribution<float> p(0.001f, 0.2f), weight(0.0f, 2.0f);
  for (int64_t i = 0; i < n; ++i) {
    corr[i] = -std::log(p(rng));
    w[i] = weight(rng);
  }
  struct Case {
    const char* name;
    bool corr, weights, hits;
    double scale;
  };
  for (const Case& k : {Case{"plain", false, false, false, 1.0}, Case{"scale", false, false, false, 4.0},
                        Case{"correction", true, false, false, 1.0}, Case{"weights", false, true, false, 1.0},
                        Case{"hits", false, false, true, 1.0}, Case{"all", true, true, true, 2.5}}) {
    INFO(k.name);
    const std::vector<float> no_f;
    const std::vector<int32_t> no_i;
    const std::vector<float>& cr = k.corr ? corr : no_f;
    const std::vector<float>& wt = k.weights ? w : no_f;
    const std::vector<int32_t>& id = k.hits ? ids : no_i;
    const double expected = reference(q, c, d, truth, cr, wt, id, batch, k.scale);
    InBatchSoftmaxLoss loss({truth, cr, wt, id}, batch, static_cast<float>(k.scale));
    feed(loss, q, c, d, 50, 512);  // tiles of partial batches, across columns
    CHECK(loss.result() == doctest::Approx(expected).epsilon(1e-5));
  }
}

TEST_CASE("InBatchSoftmaxLoss refuses mismatched inputs and a row never scored") {
  const std::vector<int32_t> truth{0, 1};
  const std::vector<float> one{1.0f};
  CHECK(test::contains(test::user_error([&] { InBatchSoftmaxLoss({truth, one, {}, {}}, 2, 1.0f); }),
                       "correction has 1 values for 2 rows"));
  CHECK(test::contains(test::user_error([&] { InBatchSoftmaxLoss({truth, {}, {}, {}}, 0, 1.0f); }),
                       "batch_size must be at least 1"));
  CHECK(test::contains(test::user_error([&] { InBatchSoftmaxLoss({truth, {}, {}, {}}, 2, -1.0f); }),
                       "scale must be a finite number > 0"));
  InBatchSoftmaxLoss loss({truth, {}, {}, {}}, 2, 1.0f);
  const std::vector<float> s{1.0f, 2.0f};
  loss.tile(0, 2, 0, 1, s.data());  // only the batch's first candidate: row 1's own never seen
  CHECK_THROWS_AS(loss.result(), RuntimeFailure);
}

TEST_CASE("InBatchSoftmaxLoss::score equals the reference, against its norm bound and past it") {
  // score() takes each row's logits against a bound from the norms, |scale|·|q|·max|c| (no pass for
  // the maximum); at scale 40 the terms underflow against that bound (the largest logit is tens
  // below it) and the row falls back to its own maximum. Both must give the reference.
  std::mt19937 rng(5);
  std::normal_distribution<float> n01;
  const int64_t n = 300, nc = 700, d = 6, batch = 64;
  Tensor q({n, d}), c({nc, d});
  for (int64_t i = 0; i < n * d; ++i) q.f32()[i] = n01(rng);
  for (int64_t i = 0; i < nc * d; ++i) c.f32()[i] = n01(rng);
  const std::vector<float> qv(q.f32(), q.f32() + n * d), cv(c.f32(), c.f32() + nc * d);
  std::vector<int32_t> truth(n), ids(n);
  std::uniform_int_distribution<int32_t> any(0, nc - 1), popular(0, 9);
  std::bernoulli_distribution pick_popular(0.5);
  for (int64_t i = 0; i < n; ++i) {
    truth[i] = pick_popular(rng) ? popular(rng) * 70 : any(rng);
    ids[i] = truth[i] / 2;
  }
  Tensor cand_ids({nc}, DType::i32);
  for (int64_t j = 0; j < nc; ++j) cand_ids.i32()[j] = static_cast<int32_t>(j / 2);
  std::vector<float> corr(n), w(n);
  std::uniform_real_distribution<float> p(0.001f, 0.2f), weight(0.0f, 2.0f);
  for (int64_t i = 0; i < n; ++i) {
    corr[i] = -std::log(p(rng));
    w[i] = weight(rng);
  }
  const std::vector<float> no_f;
  const std::vector<int32_t> no_i;
  for (double scale : {1.0, 40.0})
    for (bool all : {false, true}) {
      INFO("scale " << scale << (all ? ", correction, weights and hits" : ""));
      const std::vector<float>& cr = all ? corr : no_f;
      const std::vector<float>& wt = all ? w : no_f;
      const std::vector<int32_t>& id = all ? ids : no_i;
      InBatchSoftmaxLoss loss({truth, cr, wt, id}, batch, static_cast<float>(scale));
      metrics::FactorizedTopK top({1, 10});
      loss.score(q, c, all ? cand_ids : Tensor(), top);
      CHECK(loss.result() == doctest::Approx(reference(qv, cv, d, truth, cr, wt, id, batch, scale)).epsilon(1e-5));
    }
}
