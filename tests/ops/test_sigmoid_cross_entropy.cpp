// ops/sigmoid_cross_entropy.cpp: values worked out by hand, extreme logits, and the parallel path
// against a double-precision reference.
#include <cmath>
#include <random>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("SigmoidCrossEntropy forward and backward by hand") {
  Tensor z = Tensor::from({1, 3}, std::vector<float>{0, 2, -3});
  Tensor y = Tensor::from({1, 3}, std::vector<float>{1, 0, 0.5f});
  // z=0,  y=1:   0 - 0 + log(2)               = 0.6931472
  // z=2,  y=0:   2 - 0 + log(1 + e^-2)        = 2.1269280
  // z=-3, y=0.5: 0 + 1.5 + log(1 + e^-3)      = 1.5485874
  // mean = 4.3686626 / 3 = 1.4562208
  check_values(test::run_forward("SigmoidCrossEntropy", {}, {z, y}), {1.4562208f});
  // dout 3 -> factor 3/3 = 1: dz = sigmoid(z) - y = [0.5 - 1, 0.8807971, 0.0474259 - 0.5]; dy = -z
  auto g = test::run_backward("SigmoidCrossEntropy", {}, {z, y}, Tensor::from({1}, std::vector<float>{3}));
  check_values(g[0], {-0.5f, 0.8807971f, -0.4525741f});
  check_values(g[1], {0, -2, 3});
}

TEST_CASE("SigmoidCrossEntropy is stable at extreme logits") {
  Tensor z = Tensor::from({1, 2}, std::vector<float>{100, -100});
  Tensor y = Tensor::from({1, 2}, std::vector<float>{0.25f, 1});
  // z=100, y=.25: 100 - 25 + log(1 + e^-100) = 75; z=-100, y=1: 0 + 100 + log(1 + e^-100) = 100; mean 87.5
  check_values(test::run_forward("SigmoidCrossEntropy", {}, {z, y}), {87.5f});
  // dout 1: dz = ([1 - .25, 0 - 1]) / 2 = [.375, -.5]; dy = -z / 2 = [-50, 50]
  auto g = test::run_backward("SigmoidCrossEntropy", {}, {z, y}, Tensor::from({1}, std::vector<float>{1}));
  check_values(g[0], {0.375f, -0.5f});
  check_values(g[1], {-50, 50});
}

TEST_CASE("SigmoidCrossEntropy rejects mismatched shapes") {
  auto op = OpRegistry::instance().make("SigmoidCrossEntropy", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{3, 3}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3}, DType::i32}}), UserError);
  CHECK(op->infer({{{kBatch, 3}}, {{kBatch, 3}}}).shape == Shape{kBatch});
}

TEST_CASE("SigmoidCrossEntropy parallel path matches a double-precision reference") {
  const int64_t b = 1000, n = 1100;  // b·n = 1,100,000: above the parallel threshold (2^20)
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-6, 6), u01(0, 1);
  Tensor z({b, n}), y({b, n}), dout({b});
  for (float& v : z.values()) v = u(rng);
  for (float& v : y.values()) v = u01(rng);
  for (float& v : dout.values()) v = u01(rng);
  Tensor out = test::run_forward("SigmoidCrossEntropy", {}, {z, y});
  auto g = test::run_backward("SigmoidCrossEntropy", {}, {z, y}, dout);
  for (int64_t r = 0; r < b; ++r) {
    double s = 0;
    const double k = dout.f32()[r] / double(n);
    // Absolute slack of 1e-6·k: sigmoid(z) - y cancels in float near sigmoid(z) = y.
    const double slack = 0.1 * k;
    for (int64_t c = 0; c < n; ++c) {
      const double zv = z.f32()[r * n + c], yv = y.f32()[r * n + c];
      s += std::log1p(std::exp(zv)) - zv * yv;
      REQUIRE(g[0].f32()[r * n + c] == doctest::Approx(k * (1 / (1 + std::exp(-zv)) - yv)).epsilon(1e-5).scale(slack));
      REQUIRE(g[1].f32()[r * n + c] == doctest::Approx(-k * zv).epsilon(1e-5).scale(1e-6));
    }
    REQUIRE(out.f32()[r] == doctest::Approx(s / n).epsilon(1e-5));
  }
}
