// ops/l2_normalize.cpp: values worked out by hand (tf.math.l2_normalize semantics).
#include <cmath>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("L2Normalize forward") {
  // [3, 4] / 5; [1, 2, 2] / 3 is the next test; a zero row stays zero (norm clamped to 1e-6).
  Tensor x = Tensor::from({3, 2}, std::vector<float>{3, 4, 0, 0, -6, 8});
  check_values(test::run_forward("L2Normalize", {}, {x}), {0.6f, 0.8f, 0, 0, -0.6f, 0.8f});
  check_values(test::run_forward("L2Normalize", {}, {Tensor::from({3}, std::vector<float>{1, 2, 2})}),
               {1.0f / 3, 2.0f / 3, 2.0f / 3});
  // Rank 3 [2, 1, 2]: rows [3, 4] and [0, 5].
  check_values(test::run_forward("L2Normalize", {}, {Tensor::from({2, 1, 2}, std::vector<float>{3, 4, 0, 5})}),
               {0.6f, 0.8f, 0, 1});
  // epsilon 4: row [0.3, 0.4] has Σ x² = 0.25 < 4, so it is divided by sqrt(4) = 2;
  // row [3, 4] has 25 > 4 and is divided by 5.
  check_values(test::run_forward("L2Normalize", {{"epsilon", 4.0}}, {Tensor::from({2, 2}, std::vector<float>{0.3f, 0.4f, 3, 4})}),
               {0.15f, 0.2f, 0.6f, 0.8f});
}

TEST_CASE("L2Normalize backward") {
  // Row [3, 4]: y = [0.6, 0.8], norm 5. dy = [1, 0]: Σ dy·y = 0.6;
  // dx = ([1, 0] - 0.6·[0.6, 0.8]) / 5 = [0.64, -0.48] / 5 = [0.128, -0.096].
  // Row [0, 5]: y = [0, 1], norm 5. dy = [2, 3]: Σ dy·y = 3; dx = ([2, 3] - 3·[0, 1]) / 5 = [0.4, 0].
  Tensor x = Tensor::from({2, 2}, std::vector<float>{3, 4, 0, 5});
  auto g = test::run_backward("L2Normalize", {}, {x}, Tensor::from({2, 2}, std::vector<float>{1, 0, 2, 3}));
  check_values(g[0], {0.128f, -0.096f, 0.4f, 0});
  // Clamped rows: with epsilon 4, row [0.3, 0.4] is x / 2, so dx = dy / 2 = [0.5, 1] for dy = [1, 2].
  g = test::run_backward("L2Normalize", {{"epsilon", 4.0}}, {Tensor::from({1, 2}, std::vector<float>{0.3f, 0.4f})},
                         Tensor::from({1, 2}, std::vector<float>{1, 2}));
  check_values(g[0], {0.5f, 1});
  // A zero row with the default epsilon 1e-12: dx = dy / 1e-6; dy = [1e-6, -2e-6] gives [1, -2].
  g = test::run_backward("L2Normalize", {}, {Tensor::from({1, 2}, std::vector<float>{0, 0})},
                         Tensor::from({1, 2}, std::vector<float>{1e-6f, -2e-6f}));
  check_values(g[0], {1, -2});
}

TEST_CASE("L2Normalize on a [2048, 32] embedding batch") {
  // Row r: x[r][c] = s_c·(1 + r mod 3) with s_c = -1 for even c, +1 for odd c; its norm is
  // (1 + r mod 3)·sqrt(32) and y[r][c] = s_c / sqrt(32).
  // dy = e_0 on every row: Σ dy·y = y_0 = -1/sqrt(32); dx_c = (δ_c0 - y_c·y_0) / norm, so
  // dx_0 = (1 - 1/32) / norm and dx_c = s_c / (32·norm) for c > 0.
  const int rows = 2048, n = 32;
  const float root = std::sqrt(32.0f);
  std::vector<float> x(rows * n), y(rows * n), dy(rows * n, 0.0f), dx(rows * n);
  for (int r = 0; r < rows; ++r) {
    const float k = static_cast<float>(1 + r % 3), norm = k * root;
    dy[r * n] = 1;
    for (int c = 0; c < n; ++c) {
      const float s = c % 2 ? 1.0f : -1.0f;
      x[r * n + c] = s * k;
      y[r * n + c] = s / root;
      dx[r * n + c] = c == 0 ? (1 - 1.0f / 32) / norm : s / (32 * norm);
    }
  }
  check_values(test::run_forward("L2Normalize", {}, {Tensor::from({rows, n}, x)}), y);
  check_values(test::run_backward("L2Normalize", {}, {Tensor::from({rows, n}, x)}, Tensor::from({rows, n}, dy))[0], dx, 1e-4);
}

TEST_CASE("L2Normalize rejects a non-positive epsilon") {
  CHECK_THROWS_AS(OpRegistry::instance().make("L2Normalize", {{"epsilon", 0.0}}), UserError);
  CHECK_THROWS_AS(OpRegistry::instance().make("L2Normalize", {{"epsilon", -1.0}}), UserError);
  auto op = OpRegistry::instance().make("L2Normalize", {});
  CHECK(op->infer({{{kBatch, 32}}}).shape == Shape{kBatch, 32});
  CHECK_THROWS_AS(op->infer({{{kBatch, 32}, DType::i32}}), UserError);
}
