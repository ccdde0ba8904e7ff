// models/frequency_estimator.cpp: Yi et al. Algorithm 2 by hand.
#include <doctest/doctest.h>

#include "graph/error.hpp"
#include "models/tasks/frequency_estimator.hpp"

using namespace dagrad;

TEST_CASE("streaming frequency estimation, worked by hand") {
  // alpha = 0.5, one hash, A = B = 0 initially.
  FrequencyEstimator f(1 << 10, 1, 0.5);
  std::vector<int64_t> ids = {7};
  std::vector<float> p(1);
  // t=1, id 7: B = 0.5*0 + 0.5*(1-0) = 0.5 -> p = 2, clipped to 1.
  f.update(ids, p);
  CHECK(p[0] == doctest::Approx(1.0));
  // t=2, id 7: B = 0.5*0.5 + 0.5*(2-1) = 0.75 -> p = 1.333, clipped to 1.
  f.update(ids, p);
  CHECK(p[0] == doctest::Approx(1.0));
  // t=3, id 8 (first seen): B = 0.5*0 + 0.5*(3-0) = 1.5 -> p = 0.6667.
  ids = {8};
  f.update(ids, p);
  CHECK(p[0] == doctest::Approx(2.0 / 3));
  // t=4, id 7: B = 0.5*0.75 + 0.5*(4-2) = 1.375 -> p = 0.72727.
  ids = {7};
  f.update(ids, p);
  CHECK(p[0] == doctest::Approx(1 / 1.375));
  CHECK(f.probability(7) == doctest::Approx(1 / 1.375));
  CHECK(f.step() == 4);
}

TEST_CASE("several hashes take the largest gap, and a frequent item gets a higher probability") {
  FrequencyEstimator f(1 << 12, 3, 0.1);
  std::vector<int64_t> batch = {1, 2};
  std::vector<float> p(2);
  for (int t = 0; t < 200; ++t) {
    batch[1] = t % 4 == 0 ? 2 : 3;  // 1 in every batch, 2 in one batch out of four
    f.update(batch, p);
  }
  CHECK(f.probability(1) > f.probability(2));
  CHECK(f.probability(2) == doctest::Approx(0.25).epsilon(0.1));
}

TEST_CASE("bad estimator options are user errors") {
  CHECK_THROWS_AS(FrequencyEstimator(0, 1, 0.1), UserError);
  CHECK_THROWS_AS(FrequencyEstimator(10, 0, 0.1), UserError);
  CHECK_THROWS_AS(FrequencyEstimator(10, 1, 1.5), UserError);
}
