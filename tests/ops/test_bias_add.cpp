// ops/bias_add.cpp: values worked out by hand.
#include <cmath>
#include <cstring>

#include "graph/dnnl_context.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("BiasAdd forward and backward on a matrix") {
  Tensor x = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from({3}, std::vector<float>{10, 20, 30});
  // rows [1,2,3] and [4,5,6] each + [10,20,30]
  check_values(test::run_forward("BiasAdd", {}, {x, b}), {11, 22, 33, 14, 25, 36});
  // dx = dout; db = column sums of dout = [1+4, 2+5, 3+6]
  auto g = test::run_backward("BiasAdd", {}, {x, b}, Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  check_values(g[0], {1, 2, 3, 4, 5, 6});
  check_values(g[1], {5, 7, 9});
}

TEST_CASE("BiasAdd on rank 1 and rank 3") {
  // Rank 1: [1, 2] + [0.5, -1]
  check_values(test::run_forward("BiasAdd", {}, {Tensor::from({2}, std::vector<float>{1, 2}),
                                                 Tensor::from({2}, std::vector<float>{0.5f, -1})}),
               {1.5f, 1});
  // Rank 3: x [2, 2, 2] = 1..8, b = [100, 200]: odd positions + 100, even + 200.
  Tensor x = Tensor::from({2, 2, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  Tensor b = Tensor::from({2}, std::vector<float>{100, 200});
  check_values(test::run_forward("BiasAdd", {}, {x, b}), {101, 202, 103, 204, 105, 206, 107, 208});
  // dout = [1, 0, 2, 0, 3, 0, 4, 1]: db = [1+2+3+4, 0+0+0+1] = [10, 1]
  auto g = test::run_backward("BiasAdd", {}, {x, b}, Tensor::from({2, 2, 2}, std::vector<float>{1, 0, 2, 0, 3, 0, 4, 1}));
  check_values(g[0], {1, 0, 2, 0, 3, 0, 4, 1});
  check_values(g[1], {10, 1});
}

TEST_CASE("BiasAdd column sums over many row blocks") {
  // 70000 x 16 (past the 256-row summation block and the parallel threshold, 2^20 elements);
  // dout[i][j] = (i mod 7) + j. db[j] = 70000·j + Σ_{i<70000} (i mod 7), and 70000 = 7·10000, so
  // Σ (i mod 7) = 10000·21 = 210000; every partial sum is an integer below 2^24, exact.
  const int rows = 70000, cols = 16;
  std::vector<float> d(rows * cols), xv(rows * cols, 0.0f), bv(cols), fwd(rows * cols), db(cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) d[i * cols + j] = static_cast<float>(i % 7 + j);
  for (int j = 0; j < cols; ++j) {
    bv[j] = static_cast<float>(j);
    db[j] = static_cast<float>(70000 * j + 210000);
  }
  for (int i = 0; i < rows * cols; ++i) fwd[i] = static_cast<float>(i % cols);  // 0 + b[j]
  Tensor x = Tensor::from({rows, cols}, xv), b = Tensor::from({cols}, bv);
  check_values(test::run_forward("BiasAdd", {}, {x, b}), fwd);
  auto g = test::run_backward("BiasAdd", {}, {x, b}, Tensor::from({rows, cols}, d));
  check_values(g[0], d);
  check_values(g[1], db);
}

TEST_CASE("BiasAdd bias gradient is bitwise the same with 1 and 2 threads") {
  const int rows = 2048, cols = 64;
  std::vector<float> d(rows * cols);
  for (int i = 0; i < rows * cols; ++i) d[i] = static_cast<float>(std::sin(0.37 * i));
  Tensor x = Tensor::zeros({rows, cols}), b = Tensor::zeros({cols}), dout = Tensor::from({rows, cols}, d);
  const int threads = num_threads();
  set_num_threads(1);
  Tensor one = test::run_backward("BiasAdd", {}, {x, b}, dout)[1];
  set_num_threads(2);
  Tensor two = test::run_backward("BiasAdd", {}, {x, b}, dout)[1];
  set_num_threads(threads);
  CHECK(std::memcmp(one.f32(), two.f32(), cols * sizeof(float)) == 0);
}

TEST_CASE("BiasAdd follows a batch size that changes between runs") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  int b = g.param("b", Tensor::from({3}, std::vector<float>{1, 2, 3}));
  int y = g.add("BiasAdd", {x, b});
  CHECK(g.node(y).type.shape == Shape{kBatch, 3});
  g.set_input(x, Tensor::zeros({4, 3}));
  g.forward();
  check_values(g.value(y), {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
  g.set_input(x, Tensor::from({1, 3}, std::vector<float>{10, 10, 10}));
  g.forward();
  check_values(g.value(y), {11, 12, 13});
}

TEST_CASE("BiasAdd rejects a bias that does not match the last dimension") {
  auto op = OpRegistry::instance().make("BiasAdd", {});
  try {
    op->infer({{{kBatch, 3}}, {{4}}});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("[4]") != std::string::npos);
    CHECK(m.find("[B, 3]") != std::string::npos);
  }
  CHECK_THROWS_AS(op->infer({{{kBatch, 3}}, {{1, 3}}}), UserError);  // bias must be rank 1
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{3}, DType::i32}}), UserError);
}
