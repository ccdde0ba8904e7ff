// ops/exp.cpp, ops/log.cpp, ops/square.cpp (through ops/unary_op.hpp): values worked out by hand.
#include <cmath>
#include <limits>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {
Tensor unary_vec(std::vector<float> v) { return Tensor::from({static_cast<int64_t>(v.size())}, std::move(v)); }
}  // namespace

TEST_CASE("Exp: e^x and dx = dout · e^x") {
  Tensor x = unary_vec({0, 1, -1, 2});
  const float e = std::exp(1.0f);
  check_values(test::run_forward("Exp", {}, {x}), {1, e, 1 / e, e * e});
  auto g = test::run_backward("Exp", {}, {x}, unary_vec({1, 2, 3, -1}));
  check_values(g[0], {1, 2 * e, 3 / e, -e * e});
  // Overflow is +inf, as in every f32 framework (the NaN guard names a non-finite loss).
  CHECK(std::isinf(test::run_forward("Exp", {}, {unary_vec({100})}).f32()[0]));
}

TEST_CASE("Log: ln x and dx = dout / x; 0 gives -inf, a negative input NaN") {
  const float e = std::exp(1.0f);
  Tensor x = unary_vec({1, e, 0.5f, 4});
  check_values(test::run_forward("Log", {}, {x}), {0, 1, -std::log(2.0f), 2 * std::log(2.0f)});
  auto g = test::run_backward("Log", {}, {x}, unary_vec({1, 1, 2, -4}));
  check_values(g[0], {1, 1 / e, 4, -1});
  Tensor y = test::run_forward("Log", {}, {unary_vec({0, -1})});
  CHECK(y.f32()[0] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(y.f32()[1]));
}

TEST_CASE("Square: x² and dx = 2 · x · dout, on a rank-2 tensor") {
  Tensor x = Tensor::from({2, 2}, std::vector<float>{3, -2, 0.5f, 0});
  check_values(test::run_forward("Square", {}, {x}), {9, 4, 0.25f, 0});
  auto g = test::run_backward("Square", {}, {x}, Tensor::from({2, 2}, std::vector<float>{1, -1, 2, 5}));
  check_values(g[0], {6, 4, 2, 0});
}
