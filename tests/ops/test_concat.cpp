// ops/concat.cpp: values worked out by hand.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Concat of three matrices, forward and backward") {
  Tensor a = Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4});
  Tensor b = Tensor::from({2, 1}, std::vector<float>{5, 6});
  Tensor c = Tensor::from({2, 3}, std::vector<float>{7, 8, 9, 10, 11, 12});
  // row 0: [1, 2 | 5 | 7, 8, 9]; row 1: [3, 4 | 6 | 10, 11, 12]
  Tensor out = test::run_forward("Concat", {}, {a, b, c});
  CHECK(out.shape() == Shape{2, 6});
  check_values(out, {1, 2, 5, 7, 8, 9, 3, 4, 6, 10, 11, 12});
  // dout = [[1..6], [7..12]] split by columns 2 | 1 | 3.
  auto g = test::run_backward("Concat", {}, {a, b, c},
                              Tensor::from({2, 6}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  check_values(g[0], {1, 2, 7, 8});
  check_values(g[1], {3, 9});
  check_values(g[2], {4, 5, 6, 10, 11, 12});
}

TEST_CASE("Concat of one input, of vectors, and of rank 3") {
  Tensor a = Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4});
  check_values(test::run_forward("Concat", {}, {a}), {1, 2, 3, 4});
  check_values(test::run_backward("Concat", {}, {a}, Tensor::from({2, 2}, std::vector<float>{4, 3, 2, 1}))[0], {4, 3, 2, 1});
  // [1, 2] ++ [3]
  check_values(test::run_forward("Concat", {}, {Tensor::from({2}, std::vector<float>{1, 2}),
                                                Tensor::from({1}, std::vector<float>{3})}),
               {1, 2, 3});
  // [2, 1, 2] ++ [2, 1, 1]: rows (0,0) and (1,0): [1, 2 | 5], [3, 4 | 6]
  Tensor x = Tensor::from({2, 1, 2}, std::vector<float>{1, 2, 3, 4});
  Tensor y = Tensor::from({2, 1, 1}, std::vector<float>{5, 6});
  Tensor out = test::run_forward("Concat", {}, {x, y});
  CHECK(out.shape() == Shape{2, 1, 3});
  check_values(out, {1, 2, 5, 3, 4, 6});
}

TEST_CASE("Concat of one input twice accumulates both halves") {
  // concat(a, a) with dout = [[1, 2, 10, 20]]: da = [1 + 10, 2 + 20]
  Tensor a = Tensor::from({1, 2}, std::vector<float>{1, 2});
  auto op = OpRegistry::instance().make("Concat", {});
  Tensor out({1, 4});
  op->forward({&a, &a}, out);
  check_values(out, {1, 2, 1, 2});
  Tensor da = Tensor::zeros({1, 2});
  Tensor dout = Tensor::from({1, 4}, std::vector<float>{1, 2, 10, 20});
  op->backward({&a, &a}, out, dout, Grads({&da, &da}, {nullptr, nullptr}));
  check_values(da, {11, 22});
}

TEST_CASE("Concat of large inputs") {
  // [21000, 20] ++ [21000, 30] (1,050,000 elements, parallel): a[i][j] = i + j, b[i][j] = -j.
  const int rows = 21000;
  std::vector<float> av(rows * 20), bv(rows * 30), expected(rows * 50);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < 20; ++j) av[i * 20 + j] = expected[i * 50 + j] = static_cast<float>(i + j);
    for (int j = 0; j < 30; ++j) bv[i * 30 + j] = expected[i * 50 + 20 + j] = static_cast<float>(-j);
  }
  Tensor a = Tensor::from({rows, 20}, av), b = Tensor::from({rows, 30}, bv);
  check_values(test::run_forward("Concat", {}, {a, b}), expected);
  auto g = test::run_backward("Concat", {}, {a, b}, Tensor::from({rows, 50}, expected));
  check_values(g[0], av);
  check_values(g[1], bv);
}

TEST_CASE("Concat shapes and errors") {
  auto op = OpRegistry::instance().make("Concat", {});
  CHECK(op->infer({{{kBatch, 2}}, {{kBatch, 3}}}).shape == Shape{kBatch, 5});
  try {
    op->infer({{{kBatch, 3}}, {{kBatch, 1}}, {{4, 2}}});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("input 2") != std::string::npos);
    CHECK(m.find("[4, 2]") != std::string::npos);
    CHECK(m.find("[B, 3]") != std::string::npos);
  }
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3, 1}}}), UserError);           // ranks differ
  CHECK_THROWS_AS(op->infer({{{kBatch}}, {{2}}}), UserError);               // along the batch axis
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3}, DType::i32}}), UserError);  // ids
}
