// ops/mul.cpp: values worked out by hand.
#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Mul forward and backward") {
  Tensor a = Tensor::from({3}, std::vector<float>{1, 2, 3});
  Tensor b = Tensor::from({3}, std::vector<float>{4, -5, 0.5f});
  // [1·4, 2·(-5), 3·0.5]
  check_values(test::run_forward("Mul", {}, {a, b}), {4, -10, 1.5f});
  // dout = [1, 2, -1]: da = dout·b = [4, -10, -0.5]; db = dout·a = [1, 4, -3]
  auto g = test::run_backward("Mul", {}, {a, b}, Tensor::from({3}, std::vector<float>{1, 2, -1}));
  check_values(g[0], {4, -10, -0.5f});
  check_values(g[1], {1, 4, -3});
}

TEST_CASE("Mul of a tensor with itself has gradient 2x") {
  // loss = Σ x·x with x = [[1, -2], [3, 0.5]]: loss = 1 + 4 + 9 + 0.25 = 14.25, d/dx = 2x.
  Graph g;
  int x = g.param("x", Tensor::from({2, 2}, std::vector<float>{1, -2, 3, 0.5f}));
  int loss = g.add("ReduceSum", {g.add("Mul", {x, x})});
  g.forward();
  check_values(g.value(loss), {14.25f});
  Gradients grads;
  backward(g, loss, grads);
  check_values(grads.grad(x), {2, -4, 6, 1});
}

TEST_CASE("Mul on a rank-3 tensor larger than the parallel threshold") {
  // 80 x 120 x 120 = 1,152,000 elements; a[i] = i mod 5, b[i] = -3: out[i] = -3 (i mod 5).
  // Backward with dout = 1: da = b = -3, db = a = i mod 5.
  std::vector<float> av(1152000), bv(1152000, -3.0f), expected(1152000);
  for (int i = 0; i < 1152000; ++i) {
    av[i] = static_cast<float>(i % 5);
    expected[i] = -3.0f * static_cast<float>(i % 5);
  }
  Tensor a = Tensor::from({80, 120, 120}, av), b = Tensor::from({80, 120, 120}, bv);
  check_values(test::run_forward("Mul", {}, {a, b}), expected);
  Tensor ones = Tensor::zeros({80, 120, 120});
  ones.fill(1.0f);
  auto g = test::run_backward("Mul", {}, {a, b}, ones);
  check_values(g[0], bv);
  check_values(g[1], av);
}

TEST_CASE("Mul rejects different shapes") {
  auto op = OpRegistry::instance().make("Mul", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3, 1}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{kBatch, 3}}, {{3}}}), UserError);
}
