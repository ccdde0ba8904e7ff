// ops/dense.cpp: relu(x·kernel + bias) and linear, forward and backward by hand.
#include <doctest/doctest.h>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Dense forward and backward by hand") {
  // x = [[1, 2], [-1, 1]], kernel = [[1, -1], [0.5, 1]], bias = [0.5, -1]
  // x·kernel = [[1 + 1, -1 + 2], [-1 + 0.5, 1 + 1]] = [[2, 1], [-0.5, 2]]
  // + bias   = [[2.5, 0], [0, 1]]; relu keeps it (0 stays 0: the mask is y > 0).
  std::vector<Tensor> in = {Tensor::from({2, 2}, std::vector<float>{1, 2, -1, 1}),
                            Tensor::from({2, 2}, std::vector<float>{1, -1, 0.5f, 1}),
                            Tensor::from({2}, std::vector<float>{0.5f, -1})};
  check_values(test::run_forward("Dense", {{"activation", std::string("linear")}}, in), {2.5f, 0, 0, 1});
  // Make one pre-activation negative: bias [-3, -1] -> [[-1, 0], [-3.5, 1]] -> relu [[0, 0], [0, 1]].
  in[2] = Tensor::from({2}, std::vector<float>{-3, -1});
  check_values(test::run_forward("Dense", {{"activation", std::string("relu")}}, in), {0, 0, 0, 1});
  // dout = [[1, 2], [3, 4]]; the mask y > 0 keeps only [1][1]: dz = [[0, 0], [0, 4]].
  // dbias = [0, 4]; dkernel = xᵀ·dz = [[0, 1·0 + -1·4], [0, 2·0 + 1·4]] = [[0, -4], [0, 4]];
  // dx = dz·kernelᵀ = [[0, 0], [4·-1, 4·1]] = [[0, 0], [-4, 4]].
  auto g = test::run_backward("Dense", {{"activation", std::string("relu")}}, in,
                              Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4}));
  check_values(g[0], {0, 0, -4, 4});
  check_values(g[1], {0, -4, 0, 4});
  check_values(g[2], {0, 4});
  // Linear: dz = dout: dbias = [4, 6]; dkernel = xᵀ·dout = [[1 - 3, 2 - 4], [2 + 3, 4 + 4]] = [[-2, -2], [5, 8]];
  // dx = dout·kernelᵀ = [[1 - 2, 0.5 + 2], [3 - 4, 1.5 + 4]] = [[-1, 2.5], [-1, 5.5]].
  g = test::run_backward("Dense", {{"activation", std::string("linear")}}, in,
                         Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4}));
  check_values(g[0], {-1, 2.5f, -1, 5.5f});
  check_values(g[1], {-2, -2, 5, 8});
  check_values(g[2], {4, 6});
}

TEST_CASE("Dense errors name the inputs and the activation") {
  auto infer = [](std::vector<TensorType> t) { return OpRegistry::instance().make("Dense", {})->infer(t); };
  CHECK(infer({{{kBatch, 3}}, {{3, 4}}, {{4}}}).shape == Shape{kBatch, 4});
  CHECK_THROWS_WITH_AS(infer({{{2, 3}}, {{4, 5}}, {{5}}}), doctest::Contains("inner dimensions differ"), UserError);
  CHECK_THROWS_WITH_AS(infer({{{2, 3}}, {{3, 5}}, {{4}}}), doctest::Contains("bias [4] must match"), UserError);
  CHECK_THROWS_WITH_AS(OpRegistry::instance().make("Dense", {{"activation", std::string("tanh")}}),
                       doctest::Contains("op Dense: attribute 'activation': expected one of: linear, relu, got 'tanh'"), UserError);
}
