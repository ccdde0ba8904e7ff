// ops/scale.cpp: values worked out by hand.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Scale forward and backward") {
  Tensor x = Tensor::from({3}, std::vector<float>{1, -2, 0.5f});
  // 3·[1, -2, 0.5]
  check_values(test::run_forward("Scale", {{"scale", 3.0}}, {x}), {3, -6, 1.5f});
  // dx = 3·dout = 3·[1, 1, 2]
  auto g = test::run_backward("Scale", {{"scale", 3.0}}, {x}, Tensor::from({3}, std::vector<float>{1, 1, 2}));
  check_values(g[0], {3, 3, 6});
  // An integer scale is a number too: -2·[[1, -2, 0.5]]; dx = -2·[1, 0, -1]
  Tensor m = Tensor::from({1, 3}, std::vector<float>{1, -2, 0.5f});
  check_values(test::run_forward("Scale", {{"scale", int64_t{-2}}}, {m}), {-2, 4, -1});
  g = test::run_backward("Scale", {{"scale", int64_t{-2}}}, {m}, Tensor::from({1, 3}, std::vector<float>{1, 0, -1}));
  check_values(g[0], {-2, 0, 2});
}

TEST_CASE("Scale on a tensor larger than the parallel threshold") {
  // 1100 x 1000 = 1,100,000 elements, x[i] = i mod 9: 0.25·x; backward with dout = x: dx = 0.25·x.
  std::vector<float> v(1100000), expected(1100000);
  for (int i = 0; i < 1100000; ++i) {
    v[i] = static_cast<float>(i % 9);
    expected[i] = 0.25f * static_cast<float>(i % 9);
  }
  Tensor x = Tensor::from({1100, 1000}, v);
  check_values(test::run_forward("Scale", {{"scale", 0.25}}, {x}), expected);
  check_values(test::run_backward("Scale", {{"scale", 0.25}}, {x}, x)[0], expected);
}

TEST_CASE("Scale requires a numeric scale attribute") {
  try {
    OpRegistry::instance().make("Scale", {});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("'scale'") != std::string::npos);
  }
  CHECK_THROWS_AS(OpRegistry::instance().make("Scale", {{"scale", std::string("half")}}), UserError);
  CHECK_THROWS_AS(OpRegistry::instance().make("Scale", {{"scale", 2.0}, {"factor", 2.0}}), UserError);
}
