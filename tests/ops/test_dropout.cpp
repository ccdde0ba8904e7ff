// ops/dropout.cpp: the identity in inference; in training the kept fraction, the scale, the mask
// a function of (seed, step) only, and the gradient through the same mask.
#include <cmath>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

Tensor ones(int64_t n) {
  Tensor t = Tensor::zeros({n});
  t.fill(1.0f);
  return t;
}

// The op's output on x = 1 at a given step.
Tensor mask_at(const Attrs& attrs, int64_t n, int64_t step) {
  auto op = OpRegistry::instance().make("Dropout", attrs);
  op->set_step(step);
  Tensor x = ones(n), y({n});
  Inputs in{&x};
  op->forward(in, y);
  return y;
}

}  // namespace

TEST_CASE("Dropout keeps 1 - rate of the elements, scaled by 1 / (1 - rate)") {
  const int64_t n = 1 << 20;  // the parallel path
  const double rate = 0.3;
  Tensor y = mask_at({{"rate", rate}, {"seed", int64_t{5}}}, n, 0);
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = y.f32()[i];
    if (v != 0) {
      ++kept;
      REQUIRE(v == doctest::Approx(1 / (1 - rate)));
    }
  }
  // Binomial(n, 0.7): sd = sqrt(n · 0.21) ≈ 469; allow 6 sd.
  CHECK(std::fabs(static_cast<double>(kept) - 0.7 * n) < 6 * std::sqrt(n * 0.21));
}

TEST_CASE("Dropout's mask is a function of seed and step only") {
  const Attrs a{{"rate", 0.5}, {"seed", int64_t{11}}};
  const Tensor s3 = mask_at(a, 1000, 3);
  check_values(mask_at(a, 1000, 3), std::vector<float>(s3.f32(), s3.f32() + 1000));  // same step: same mask
  auto differs = [&](const Tensor& t) {
    for (int64_t i = 0; i < 1000; ++i)
      if (t.f32()[i] != s3.f32()[i]) return true;
    return false;
  };
  CHECK(differs(mask_at(a, 1000, 4)));                                       // the next step draws anew
  CHECK(differs(mask_at({{"rate", 0.5}, {"seed", int64_t{12}}}, 1000, 3)));  // another seed too
}

TEST_CASE("Dropout's gradient goes through the forward's mask, also after an inference forward") {
  const Attrs a{{"rate", 0.25}, {"seed", int64_t{2}}};
  const int64_t n = 64;
  const Tensor y = mask_at(a, n, 7);
  for (bool training : {true, false}) {
    auto op = OpRegistry::instance().make("Dropout", a);
    op->set_step(7);
    op->set_training(training);
    Tensor x = ones(n), out({n});
    Inputs in{&x};
    op->forward(in, out);
    if (!training) check_values(out, std::vector<float>(n, 1.0f));  // inference: the identity
    Tensor dx = Tensor::zeros({n});
    Tensor dy = ones(n);
    op->backward(in, out, dy, Grads({&dx}, {nullptr}));
    check_values(dx, std::vector<float>(y.f32(), y.f32() + n));  // dy · mask / (1 - rate)
  }
}

TEST_CASE("Dropout of rate 0 is the identity in training; rate 1 is refused") {
  Tensor x = Tensor::from({3}, std::vector<float>{1, -2, 3});
  check_values(test::run_forward("Dropout", {{"rate", int64_t{0}}}, {x}), {1, -2, 3});
  CHECK_THROWS_AS(OpRegistry::instance().make("Dropout", {{"rate", 1.0}}), UserError);
  CHECK_THROWS_AS(OpRegistry::instance().make("Dropout", {}), UserError);
}
