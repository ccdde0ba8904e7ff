// ops/sub.cpp: values worked out by hand.
#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Sub forward and backward") {
  Tensor a = Tensor::from({3}, std::vector<float>{1, 2, 3});
  Tensor b = Tensor::from({3}, std::vector<float>{4, -5, 0.5f});
  check_values(test::run_forward("Sub", {}, {a, b}), {-3, 7, 2.5f});
  // dout = [1, 2, -1]: da = dout, db = -dout.
  auto g = test::run_backward("Sub", {}, {a, b}, Tensor::from({3}, std::vector<float>{1, 2, -1}));
  check_values(g[0], {1, 2, -1});
  check_values(g[1], {-1, -2, 1});
}

TEST_CASE("Sub of a value from itself: zero, and its gradient cancels") {
  // loss = Σ (x - x) = 0; both paths meet in x's gradient: +1 - 1 = 0.
  Graph g;
  int x = g.param("x", Tensor::from({2}, std::vector<float>{1, -2}));
  int y = g.param("y", Tensor::from({2}, std::vector<float>{3, 4}));
  int loss = g.add("ReduceSum", {g.add("Mul", {g.add("Sub", {x, x}), y})});
  g.forward();
  check_values(g.value(loss), {0});
  Gradients grads;
  backward(g, loss, grads);
  check_values(grads.grad(x), {0, 0});
  check_values(grads.grad(y), {0, 0});
}

TEST_CASE("Sub rejects different shapes") {
  auto op = OpRegistry::instance().make("Sub", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{3, 2}}}), UserError);
}
