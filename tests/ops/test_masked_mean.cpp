// ops/masked_mean.cpp: values worked out by hand (mixed, empty and full rows), and the parallel
// path against a double-precision reference.
#include <random>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// Row 0: tokens [1,2] [3,4] [5,6], ids 7 0 2 (middle masked).
// Row 1: tokens [1,1] [2,2] [3,3], ids 0 0 0 (empty).
// Row 2: tokens [2,4] [6,8] [10,12], ids 1 1 1 (full).
Tensor x3() {
  return Tensor::from({3, 3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 1, 1, 2, 2, 3, 3, 2, 4, 6, 8, 10, 12});
}
Tensor masked_ids3() { return Tensor::from_ids({3, 3}, std::vector<int32_t>{7, 0, 2, 0, 0, 0, 1, 1, 1}); }

}  // namespace

TEST_CASE("MaskedMean forward: mean over unmasked tokens, zeros for an empty row") {
  Tensor out = test::run_forward("MaskedMean", {}, {x3(), masked_ids3()});
  CHECK(out.shape() == Shape{3, 2});
  // row 0: ([1,2] + [5,6]) / 2 = [3,4]; row 1: empty -> [0,0] (Keras: NaN);
  // row 2: ([2,4] + [6,8] + [10,12]) / 3 = [6,8]
  check_values(out, {3, 4, 0, 0, 6, 8});
}

TEST_CASE("MaskedMean backward: dout / count on unmasked tokens, nothing elsewhere") {
  Tensor dout = Tensor::from({3, 2}, std::vector<float>{2, 4, 1, 1, 3, 6});
  auto g = test::run_backward("MaskedMean", {}, {x3(), masked_ids3()}, dout);
  // row 0: count 2 -> tokens 0 and 2 get [2,4]/2 = [1,2], token 1 (masked) gets 0;
  // row 1: empty -> 0; row 2: count 3 -> every token gets [3,6]/3 = [1,2]
  check_values(g[0], {1, 2, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 2, 1, 2, 1, 2});
}

TEST_CASE("MaskedMean rejects ids that do not match x") {
  auto op = OpRegistry::instance().make("MaskedMean", {});
  CHECK_THROWS_AS(op->infer({{{2, 3, 4}}, {{2, 4}, DType::i32}}), UserError);
  CHECK_THROWS_AS(op->infer({{{2, 3, 4}}, {{2, 3}, DType::f32}}), UserError);
  CHECK_THROWS_AS(op->infer({{{2, 3}}, {{2, 3}, DType::i32}}), UserError);
  CHECK(op->infer({{{kBatch, 3, 4}}, {{kBatch, 3}, DType::i32}}).shape == Shape{kBatch, 4});
}

TEST_CASE("MaskedMean parallel path matches a double-precision reference") {
  const int64_t b = 2048, t = 20, d = 32;  // b·t·d = 1,310,720: above the parallel threshold (2^20)
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int32_t> uid(0, 3);
  Tensor x({b, t, d}), ids({b, t}, DType::i32), dout({b, d});
  for (float& v : x.values()) v = u(rng);
  for (int64_t i = 0; i < b * t; ++i) ids.i32()[i] = uid(rng);
  for (int64_t k = 0; k < t; ++k) ids.i32()[5 * t + k] = 0;  // one empty row
  for (float& v : dout.values()) v = u(rng);
  Tensor out = test::run_forward("MaskedMean", {}, {x, ids});
  auto g = test::run_backward("MaskedMean", {}, {x, ids}, dout);
  for (int64_t r = 0; r < b; ++r) {
    int count = 0;
    for (int64_t k = 0; k < t; ++k) count += ids.i32()[r * t + k] != 0;
    for (int64_t c = 0; c < d; ++c) {
      double s = 0;
      for (int64_t k = 0; k < t; ++k)
        if (ids.i32()[r * t + k] != 0) s += x.f32()[(r * t + k) * d + c];
      REQUIRE(out.f32()[r * d + c] == doctest::Approx(count ? s / count : 0.0).epsilon(1e-5));
      for (int64_t k = 0; k < t; ++k) {
        double expect = (count && ids.i32()[r * t + k] != 0) ? dout.f32()[r * d + c] / count : 0.0;
        REQUIRE(g[0].f32()[(r * t + k) * d + c] == doctest::Approx(expect).epsilon(1e-5));
      }
    }
  }
}
