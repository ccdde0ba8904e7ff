// ops/add.cpp: values worked out by hand.
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Add forward and backward") {
  Tensor a = Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4});
  Tensor b = Tensor::from({2, 2}, std::vector<float>{10, -20, 0.5f, 40});
  // [1+10, 2-20, 3+0.5, 4+40]
  check_values(test::run_forward("Add", {}, {a, b}), {11, -18, 3.5f, 44});
  // d(a+b)/da = d(a+b)/db = 1: both gradients are dout itself.
  auto g = test::run_backward("Add", {}, {a, b}, Tensor::from({2, 2}, std::vector<float>{1, -1, 2, 0.5f}));
  check_values(g[0], {1, -1, 2, 0.5f});
  check_values(g[1], {1, -1, 2, 0.5f});
}

TEST_CASE("Add on a rank-3 tensor larger than the parallel threshold") {
  // 80 x 120 x 120 = 1,152,000 elements; a[i] = i mod 13, b[i] = 2: out[i] = (i mod 13) + 2.
  std::vector<float> av(1152000), bv(1152000, 2.0f), expected(1152000);
  for (int i = 0; i < 1152000; ++i) {
    av[i] = static_cast<float>(i % 13);
    expected[i] = static_cast<float>(i % 13 + 2);
  }
  Tensor a = Tensor::from({80, 120, 120}, av), b = Tensor::from({80, 120, 120}, bv);
  check_values(test::run_forward("Add", {}, {a, b}), expected);
  // Backward (accumulating loops) with dout = a: both gradients are a.
  auto g = test::run_backward("Add", {}, {a, b}, a);
  check_values(g[0], av);
  check_values(g[1], av);
}

TEST_CASE("Add follows a batch size that changes between runs") {
  Graph g;
  int x = g.input("x", {{kBatch, 2}});
  int y = g.input("y", {{kBatch, 2}});
  int s = g.add("Add", {x, y});
  CHECK(g.node(s).type.shape == Shape{kBatch, 2});
  g.set_input(x, Tensor::from({3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  g.set_input(y, Tensor::from({3, 2}, std::vector<float>{1, 1, 1, 1, 1, 1}));
  g.forward();
  check_values(g.value(s), {2, 3, 4, 5, 6, 7});
  g.set_input(x, Tensor::from({1, 2}, std::vector<float>{-1, 7}));
  g.set_input(y, Tensor::from({1, 2}, std::vector<float>{1, 3}));
  g.forward();
  check_values(g.value(s), {0, 10});
}

TEST_CASE("Add rejects different shapes and non-f32 inputs") {
  auto op = OpRegistry::instance().make("Add", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{3, 2}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{kBatch, 3}}, {{4, 3}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3}, DType::i32}}), UserError);
  CHECK(op->infer({{{kBatch, 3}}, {{kBatch, 3}}}).shape == Shape{kBatch, 3});
}
