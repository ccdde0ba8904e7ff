// models/data/preprocessing/normalization.cpp: population mean and variance and the standardised
// values worked out by hand; out = (x - mean) / max(sqrt(var), 1e-7).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/data/preprocessing/normalization.hpp"

using namespace dagrad;
using dagrad::preprocessing::Normalization;

namespace {
void check_values(const Tensor& t, const std::vector<float>& expected, double eps = 1e-6) {
  REQUIRE(t.size() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i);
    CHECK(t.f32()[i] == doctest::Approx(expected[i]).epsilon(eps));
  }
}
}  // namespace

TEST_CASE("Normalization adapt: population mean and variance, then standardise") {
  Normalization n;
  n.adapt(std::vector<float>{1, 2, 3, 4});
  // mean = 10 / 4 = 2.5; variance = (1.5² + 0.5² + 0.5² + 1.5²) / 4 = 5 / 4 = 1.25 (population)
  CHECK(n.mean() == std::vector<float>{2.5f});
  CHECK(n.variance() == std::vector<float>{1.25f});
  // sqrt(1.25) = 1.118033989; (1 - 2.5) / 1.118034 = -1.341640786
  Tensor out = n.transform(std::vector<float>{1.0f, 2.5f, 4.0f});
  CHECK(out.shape() == Shape{3, 1});
  check_values(out, {-1.341640786f, 0.0f, 1.341640786f});
}

TEST_CASE("Normalization per feature over rows") {
  Normalization n;
  // rows [1, 10], [3, 10], [5, 40]
  n.adapt(std::vector<float>{1, 10, 3, 10, 5, 40}, 2);
  // feature 0: mean 3, variance (4 + 0 + 4) / 3 = 8/3; feature 1: mean 20, variance (100 + 100 + 400) / 3 = 200
  CHECK(n.num_features() == 2);
  CHECK(n.mean()[0] == doctest::Approx(3.0));
  CHECK(n.mean()[1] == doctest::Approx(20.0));
  CHECK(n.variance()[0] == doctest::Approx(8.0 / 3.0));
  CHECK(n.variance()[1] == doctest::Approx(200.0));
  // row [5, 40]: (5 - 3) / sqrt(8/3) = 2 / 1.632993 = 1.224744871; (40 - 20) / sqrt(200) = 20 / 14.142136 = 1.414213562
  Tensor out({1, 2}, DType::f32);
  n.transform(std::vector<float>{5, 40}, out);
  check_values(out, {1.224744871f, 1.414213562f});
  CHECK_THROWS_AS(n.transform(std::vector<float>{1, 2, 3}), UserError);  // not whole rows of 2
  CHECK_THROWS_AS(n.adapt(std::vector<float>{1, 2, 3}, 2), UserError);
}

TEST_CASE("Normalization with zero variance divides by 1e-7") {
  Normalization n;
  n.adapt(std::vector<float>{5, 5, 5});
  CHECK(n.mean() == std::vector<float>{5.0f});
  CHECK(n.variance() == std::vector<float>{0.0f});
  // max(sqrt(0), 1e-7) = 1e-7: (5 - 5) / 1e-7 = 0; (6 - 5) / 1e-7 = 1e7; (4 - 5) / 1e-7 = -1e7
  Tensor out = n.transform(std::vector<float>{5, 6, 4});
  CHECK(out.f32()[0] == 0.0f);
  CHECK(out.f32()[1] == doctest::Approx(1e7).epsilon(1e-6));
  CHECK(out.f32()[2] == doctest::Approx(-1e7).epsilon(1e-6));
}

TEST_CASE("Normalization of int64 timestamps: values and state are float32") {
  Normalization n;
  // Both values are exact in float32 (multiples of 64 near 8.8e8). mean = 880000032 in double, which
  // is halfway between 880000000 (13750000 * 64, even) and 880000064: float32 rounds it to 880000000.
  // variance = 32² = 1024.
  n.adapt(std::vector<int64_t>{880000000, 880000064});
  CHECK(n.mean() == std::vector<float>{880000000.0f});
  CHECK(n.variance() == std::vector<float>{1024.0f});
  // (880000064 - 880000000) / 32 = 2 with the float32 mean (1 in exact arithmetic, as Keras does not do).
  // 880000070 rounds to 880000064 before the subtraction: also 2.
  Tensor out = n.transform(std::vector<int64_t>{880000064, 880000070, 880000000});
  check_values(out, {2.0f, 2.0f, 0.0f});
}

TEST_CASE("Normalization state: rebuild, identity default, bad state") {
  Normalization id;
  check_values(id.transform(std::vector<float>{-3.0f, 7.0f}), {-3.0f, 7.0f});  // mean 0, variance 1
  Normalization n(std::vector<float>{1.0f}, std::vector<float>{4.0f});
  check_values(n.transform(std::vector<float>{3.0f, -1.0f}), {1.0f, -1.0f});  // (3 - 1) / 2, (-1 - 1) / 2
  Normalization a;
  a.adapt(std::vector<float>{2, 4, 9});
  Normalization b(a.mean(), a.variance());
  CHECK(b.transform(std::vector<float>{7.0f}).f32()[0] == a.transform(std::vector<float>{7.0f}).f32()[0]);
  CHECK_THROWS_WITH_AS((Normalization(std::vector<float>{0.0f, 0.0f}, std::vector<float>{1.0f, -2.0f})),
                       doctest::Contains("variance 1 is -2"), UserError);
  CHECK_THROWS_AS((Normalization(std::vector<float>{0.0f}, std::vector<float>{1.0f, 1.0f})), UserError);
  CHECK_THROWS_AS(Normalization(0), UserError);
  CHECK_THROWS_AS(a.adapt(std::vector<float>{}), UserError);
}
