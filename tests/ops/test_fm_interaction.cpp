// ops/fm_interaction.cpp: values worked out by hand, and against the pairwise sum it replaces.
#include <random>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("FMInteraction: Σ_{i<j} <v_i, v_j> per row, by hand") {
  // Row 0: v1 = [1, 2], v2 = [3, -1], v3 = [0, 4]:
  //   <v1,v2> = 3 - 2 = 1, <v1,v3> = 0 + 8 = 8, <v2,v3> = 0 - 4 = -4: y = 5.
  // Row 1: v1 = [-1, 0], v2 = [2, 2], v3 = [1, -3]:
  //   <v1,v2> = -2, <v1,v3> = -1, <v2,v3> = 2 - 6 = -4: y = -7.
  Tensor v1 = Tensor::from({2, 2}, std::vector<float>{1, 2, -1, 0});
  Tensor v2 = Tensor::from({2, 2}, std::vector<float>{3, -1, 2, 2});
  Tensor v3 = Tensor::from({2, 2}, std::vector<float>{0, 4, 1, -3});
  Tensor y = test::run_forward("FMInteraction", {}, {v1, v2, v3});
  CHECK(y.shape() == Shape{2, 1});
  check_values(y, {5, -7});
  // dv_i = dout · (Σ_j v_j − v_i). Sums: row 0 [4, 5], row 1 [2, -1]; dout = [1, 2].
  auto g = test::run_backward("FMInteraction", {}, {v1, v2, v3}, Tensor::from({2, 1}, std::vector<float>{1, 2}));
  check_values(g[0], {3, 3, 2 * 3, 2 * -1});   // row 0: [4-1, 5-2]; row 1: 2·[2+1, -1-0]
  check_values(g[1], {1, 6, 2 * 0, 2 * -3});   // row 0: [4-3, 5+1]; row 1: 2·[2-2, -1-2]
  check_values(g[2], {4, 1, 2 * 1, 2 * 2});    // row 0: [4-0, 5-4]; row 1: 2·[2-1, -1+3]
}

TEST_CASE("FMInteraction equals the explicit pairwise sum on random fields") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  const int fields = 5, rows = 7, d = 9;
  std::vector<Tensor> v;
  for (int f = 0; f < fields; ++f) {
    std::vector<float> x(rows * d);
    for (float& e : x) e = u(rng);
    v.push_back(Tensor::from({rows, d}, x));
  }
  std::vector<float> expected(rows, 0);
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < fields; ++i)
      for (int j = i + 1; j < fields; ++j)
        for (int k = 0; k < d; ++k) expected[r] += v[i].f32()[r * d + k] * v[j].f32()[r * d + k];
  check_values(test::run_forward("FMInteraction", {}, v), expected, 1e-4);
}

TEST_CASE("FMInteraction needs fields of one shape [batch, d]") {
  auto op = OpRegistry::instance().make("FMInteraction", {});
  CHECK(op->infer({{{kBatch, 8}}, {{kBatch, 8}}}).shape == Shape{kBatch, 1});
  CHECK_THROWS_AS(op->infer({{{4, 8}}, {{4, 6}}}), UserError);
  CHECK_THROWS_AS(op->infer({{{4, 2, 8}}, {{4, 2, 8}}}), UserError);
}
