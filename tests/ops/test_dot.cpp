// ops/dot.cpp: values worked out by hand.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Dot: row-wise dot products [B, d]·[B, d] -> [B, 1] and their gradients") {
  Tensor a = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, -1, 0, 2});
  Tensor b = Tensor::from({2, 3}, std::vector<float>{4, 5, 6, 2, 7, 0.5f});
  // row 0: 4 + 10 + 18 = 32; row 1: -2 + 0 + 1 = -1
  Tensor y = test::run_forward("Dot", {}, {a, b});
  CHECK(y.shape() == Shape{2, 1});
  check_values(y, {32, -1});
  // dout = [2, -1]: da = dout[r]·b[r], db = dout[r]·a[r]
  auto g = test::run_backward("Dot", {}, {a, b}, Tensor::from({2, 1}, std::vector<float>{2, -1}));
  check_values(g[0], {8, 10, 12, -2, -7, -0.5f});
  check_values(g[1], {2, 4, 6, 1, 0, -2});
}

TEST_CASE("Dot keeps leading axes and the batch, and rejects mismatched shapes") {
  auto op = OpRegistry::instance().make("Dot", {});
  CHECK(op->infer({{{kBatch, 4, 8}}, {{kBatch, 4, 8}}}).shape == Shape{kBatch, 4, 1});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 4}}}), UserError);
}
