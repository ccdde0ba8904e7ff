// ops/mat_mul.cpp: values worked out by hand for each transpose combination.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("MatMul forward, all transpose flags") {
  Tensor a = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from({3, 2}, std::vector<float>{1, 0, 0, 1, 1, 1});
  // [[1,2,3],[4,5,6]]·[[1,0],[0,1],[1,1]] = [[4,5],[10,11]]
  check_values(test::run_forward("MatMul", {}, {a, b}), {4, 5, 10, 11});
  // aᵀ·aᵀᵀ... aᵀ (3x2) · a (2x3)? use transpose_a with b2 = [[1,1],[0,1]] (2x2): aᵀ·b2 = 3x2
  Tensor b2 = Tensor::from({2, 2}, std::vector<float>{1, 1, 0, 1});
  // aᵀ = [[1,4],[2,5],[3,6]]; ·[[1,1],[0,1]] = [[1,5],[2,7],[3,9]]
  check_values(test::run_forward("MatMul", {{"transpose_a", true}}, {a, b2}), {1, 5, 2, 7, 3, 9});
  // a·aᵀ = [[14, 32], [32, 77]]
  check_values(test::run_forward("MatMul", {{"transpose_b", true}}, {a, a}), {14, 32, 32, 77});
  // aᵀ·aᵀ with a 2x2: c = [[1,2],[3,4]], cᵀcᵀ = [[1,3],[2,4]]² = [[7,15],[10,22]]
  Tensor c = Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4});
  check_values(test::run_forward("MatMul", {{"transpose_a", true}, {"transpose_b", true}}, {c, c}), {7, 15, 10, 22});
}

TEST_CASE("MatMul backward by hand") {
  // c = a·b with a = [[1,2]], b = [[3],[4]]; dout = [[2]]: da = dout·bᵀ = [[6, 8]], db = aᵀ·dout = [[2],[4]]
  Tensor a = Tensor::from({1, 2}, std::vector<float>{1, 2});
  Tensor b = Tensor::from({2, 1}, std::vector<float>{3, 4});
  auto g = test::run_backward("MatMul", {}, {a, b}, Tensor::from({1, 1}, std::vector<float>{2}));
  check_values(g[0], {6, 8});
  check_values(g[1], {2, 4});
}

TEST_CASE("MatMul rejects mismatched inner dimensions") {
  auto op = OpRegistry::instance().make("MatMul", {});
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{4, 2}}}), UserError);
}
