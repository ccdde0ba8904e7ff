// models/metrics/mean_loss.cpp: the example-weighted mean worked out by hand, and input errors.
#include <doctest/doctest.h>

#include "graph/error.hpp"
#include "models/metrics/mean_loss.hpp"

using namespace dagrad;

TEST_CASE("MeanLoss weights each batch by its example count") {
  metrics::MeanLoss m;
  // (2.0 * 3 + 0.5 * 1 + 1.0 * 4) / (3 + 1 + 4) = (6 + 0.5 + 4) / 8 = 10.5 / 8 = 1.3125
  // (the unweighted mean of the three losses would be 3.5 / 3 = 1.1667)
  m.update(2.0, 3);
  m.update(0.5, 1);
  m.update(1.0, 4);
  m.update(123.0, 0);  // an empty batch carries no weight
  CHECK(m.examples() == 8);
  CHECK(m.result() == doctest::Approx(1.3125).epsilon(1e-15));
  m.reset();
  m.update(0.25, 10);
  CHECK(m.result() == doctest::Approx(0.25).epsilon(1e-15));
}

TEST_CASE("MeanLoss rejects empty and negative counts") {
  metrics::MeanLoss m;
  CHECK_THROWS_AS(m.result(), UserError);
  m.update(1.0, 0);
  CHECK_THROWS_AS(m.result(), UserError);
  CHECK_THROWS_AS(m.update(1.0, -2), UserError);
}
