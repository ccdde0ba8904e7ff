// ops/mean_squared_error.cpp: values worked out by hand and the parallel path against a reference.
#include <cmath>
#include <random>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("MeanSquaredError forward and backward by hand") {
  Tensor pred = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 0, 0, 0});
  Tensor target = Tensor::from({2, 3}, std::vector<float>{1, 0, 0, 1, -1, 2});
  // row 0: diffs [0, 2, 3] -> (0 + 4 + 9) / 3 = 13/3; row 1: diffs [-1, 1, -2] -> (1 + 1 + 4) / 3 = 2
  check_values(test::run_forward("MeanSquaredError", {}, {pred, target}), {13.f / 3, 2});
  // dout [3, 1.5]: dpred = 2 · dout / 3 · diff: row 0 2·3/3·[0,2,3] = [0,4,6]; row 1 2·1.5/3·[-1,1,-2]
  auto g = test::run_backward("MeanSquaredError", {}, {pred, target}, Tensor::from({2}, std::vector<float>{3, 1.5f}));
  check_values(g[0], {0, 4, 6, -1, 1, -2});
  check_values(g[1], {0, -4, -6, 1, -1, 2});
}

TEST_CASE("MeanSquaredError rejects mismatched shapes") {
  auto op = OpRegistry::instance().make("MeanSquaredError", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 4}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3}, DType::i32}}), UserError);
  CHECK(op->infer({{{kBatch, 3}}, {{kBatch, 3}}}).shape == Shape{kBatch});
}

TEST_CASE("MeanSquaredError parallel path matches a double-precision reference") {
  const int64_t b = 1000, n = 1100;  // b·n = 1,100,000: above the parallel threshold (2^20)
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2, 2);
  Tensor p({b, n}), y({b, n}), dout({b});
  for (float& v : p.values()) v = u(rng);
  for (float& v : y.values()) v = u(rng);
  for (float& v : dout.values()) v = u(rng);
  Tensor out = test::run_forward("MeanSquaredError", {}, {p, y});
  auto g = test::run_backward("MeanSquaredError", {}, {p, y}, dout);
  for (int64_t r = 0; r < b; ++r) {
    double s = 0;
    // Absolute slack of 1e-6·|2·dout/n|: pred - target is rounded to float.
    const double slack = 0.1 * std::fabs(2.0 * dout.f32()[r] / n);
    for (int64_t c = 0; c < n; ++c) {
      const double e = double(p.f32()[r * n + c]) - y.f32()[r * n + c];
      s += e * e;
      REQUIRE(g[0].f32()[r * n + c] == doctest::Approx(2 * e * dout.f32()[r] / n).epsilon(1e-5).scale(slack));
      REQUIRE(g[1].f32()[r * n + c] == doctest::Approx(-2 * e * dout.f32()[r] / n).epsilon(1e-5).scale(slack));
    }
    REQUIRE(out.f32()[r] == doctest::Approx(s / n).epsilon(1e-5));
  }
}
