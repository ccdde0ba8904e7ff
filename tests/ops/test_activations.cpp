// ops/relu.cpp, ops/sigmoid.cpp, ops/tanh.cpp: values worked out by hand.
#include <cmath>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Relu forward and backward") {
  Tensor x = Tensor::from({1, 4}, std::vector<float>{-2, -0.5f, 0.5f, 3});
  check_values(test::run_forward("Relu", {}, {x}), {0, 0, 0.5f, 3});
  auto g = test::run_backward("Relu", {}, {x}, Tensor::from({1, 4}, std::vector<float>{1, 2, 3, 4}));
  check_values(g[0], {0, 0, 3, 4});
}

TEST_CASE("Sigmoid forward and backward") {
  Tensor x = Tensor::from({3}, std::vector<float>{0, 2, -2});
  float s2 = 1 / (1 + std::exp(-2.0f));
  check_values(test::run_forward("Sigmoid", {}, {x}), {0.5f, s2, 1 - s2});
  auto g = test::run_backward("Sigmoid", {}, {x}, Tensor::from({3}, std::vector<float>{1, 1, 2}));
  check_values(g[0], {0.25f, s2 * (1 - s2), 2 * s2 * (1 - s2)}, 1e-4);
}

TEST_CASE("Tanh forward and backward") {
  Tensor x = Tensor::from({2}, std::vector<float>{0, 1});
  float t1 = std::tanh(1.0f);
  check_values(test::run_forward("Tanh", {}, {x}), {0, t1});
  auto g = test::run_backward("Tanh", {}, {x}, Tensor::from({2}, std::vector<float>{1, 1}));
  check_values(g[0], {1, 1 - t1 * t1}, 1e-4);
}
