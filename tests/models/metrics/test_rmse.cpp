// models/metrics/rmse.cpp: RMSE worked out by hand, accumulated over updates, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "graph/error.hpp"
#include "models/metrics/rmse.hpp"

using namespace dagrad;

TEST_CASE("Rmse by hand, over one and two updates") {
  metrics::Rmse m;
  // errors 1 - 1.5, 2 - 2, 3 - 1, 4 - 4 = -0.5, 0, 2, 0; squares 0.25 + 0 + 4 + 0 = 4.25
  // sqrt(4.25 / 4) = sqrt(1.0625) = 1.030776406404415
  m.update(Tensor::from({4}, std::vector<float>{1, 2, 3, 4}), Tensor::from({4}, std::vector<float>{1.5f, 2, 1, 4}));
  CHECK(m.result() == doctest::Approx(1.030776406404415).epsilon(1e-12));
  // A second update of shape [2, 1]: errors 0 - 1, 3 - 3 -> squares 1, 0.
  // Over all 6 elements: sqrt((4.25 + 1) / 6) = sqrt(0.875) = 0.9354143466934853
  m.update(Tensor::from({2, 1}, std::vector<float>{0, 3}), Tensor::from({2, 1}, std::vector<float>{1, 3}));
  CHECK(m.count() == 6);
  CHECK(m.result() == doctest::Approx(0.9354143466934853).epsilon(1e-12));
  // Perfect predictions give exactly 0.
  m.reset();
  m.update(Tensor::from({3}, std::vector<float>{0.1f, 0.2f, 0.3f}), Tensor::from({3}, std::vector<float>{0.1f, 0.2f, 0.3f}));
  CHECK(m.result() == 0.0);
}

TEST_CASE("Rmse rejects empty and mismatched input") {
  metrics::Rmse m;
  CHECK_THROWS_AS(m.result(), UserError);
  m.update(Tensor({0}), Tensor({0}));  // an empty batch adds nothing
  CHECK_THROWS_AS(m.result(), UserError);
  CHECK_THROWS_AS(m.update(Tensor({3}), Tensor({4})), UserError);
  CHECK_THROWS_AS(m.update(Tensor({4}), Tensor({2, 2})), UserError);
  CHECK_THROWS_AS(m.update(Tensor({2}), Tensor({2}, DType::i32)), UserError);
  CHECK(m.count() == 0);
}
