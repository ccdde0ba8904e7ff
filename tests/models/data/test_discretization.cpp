// models/data/preprocessing/discretization.cpp: buckets worked out by hand (bucket = number of
// boundaries <= x, after converting x to float32), and numpy.linspace boundaries by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "models/data/preprocessing/discretization.hpp"

using namespace dagrad;
using dagrad::preprocessing::Discretization;

TEST_CASE("Discretization buckets: below the first, on a boundary, between, above the last") {
  Discretization d(std::vector<float>{0.0f, 1.0f, 2.5f});
  CHECK(d.num_buckets() == 4);  // 3 boundaries -> 4 buckets
  CHECK(d.bucket(-1.0f) == 0);  // below the first
  CHECK(d.bucket(-0.0f) == 1);  // -0 == 0: on the boundary goes to the upper bucket
  CHECK(d.bucket(0.0f) == 1);   // exactly on boundary 0
  CHECK(d.bucket(0.5f) == 1);
  CHECK(d.bucket(1.0f) == 2);   // exactly on boundary 1
  CHECK(d.bucket(2.4999f) == 2);
  CHECK(d.bucket(2.5f) == 3);   // exactly on the last boundary
  CHECK(d.bucket(100.0f) == 3); // above the last
  CHECK(d.bucket(std::numeric_limits<float>::infinity()) == 3);
  CHECK(d.bucket(-std::numeric_limits<float>::infinity()) == 0);
  CHECK(d.bucket(std::nanf("")) == 3);  // upper_bound never finds NaN < boundary
  std::vector<float> xs{-1.0f, 0.0f, 1.0f, 2.0f, 2.5f, 3.0f};
  Tensor out({2, 3}, DType::i32);
  d.transform(xs, out);
  CHECK(std::vector<int32_t>(out.ids().begin(), out.ids().end()) == std::vector<int32_t>{0, 1, 2, 2, 3, 3});
  CHECK(d.transform(xs).shape() == Shape{6});
}

TEST_CASE("Discretization with no boundaries has one bucket") {
  Discretization d;
  CHECK(d.num_buckets() == 1);
  CHECK(d.bucket(-5.0f) == 0);
  CHECK(d.bucket(int64_t{5}) == 0);
}

TEST_CASE("Discretization rejects boundaries that are not strictly increasing, naming the index") {
  CHECK_THROWS_WITH_AS((Discretization(std::vector<float>{0.0f, 1.0f, 1.0f})),
                       doctest::Contains("boundary 2 (1) is not greater than boundary 1 (1)"), UserError);
  CHECK_THROWS_WITH_AS((Discretization(std::vector<float>{0.0f, 2.0f, 1.0f})),
                       doctest::Contains("boundary 2 (1) is not greater than boundary 1 (2)"), UserError);
  CHECK_THROWS_WITH_AS((Discretization(std::vector<float>{std::nanf("")})), doctest::Contains("boundary 0 is NaN"),
                       UserError);
}

TEST_CASE("Discretization converts large integers to float32 before comparing (as Bucketize)") {
  // 8.8e8 lies in [2^29, 2^30), where float32 values are 64 apart; 880000000 = 13750000 * 64 and
  // 880000064 = 13750001 * 64 are both exact. Halfway cases round to the even multiple.
  Discretization d(std::vector<float>{880000000.0f, 880000064.0f});
  // 879999967: 31 above 879999936 (< 32) -> 879999936 < 880000000 -> bucket 0.
  CHECK(d.bucket(int64_t{879999967}) == 0);
  // 879999968: exactly halfway between 879999936 (13749999*64, odd) and 880000000 (even) ->
  // 880000000, ON the boundary -> bucket 1, though the integer is below it.
  CHECK(static_cast<float>(int64_t{879999968}) == 880000000.0f);
  CHECK(d.bucket(int64_t{879999968}) == 1);
  CHECK(d.bucket(int64_t{879999999}) == 1);
  // 880000032: halfway between 880000000 (even) and 880000064 (odd) -> 880000000 -> bucket 1.
  CHECK(d.bucket(int64_t{880000032}) == 1);
  // 880000033 and 880000063 round up to 880000064 -> bucket 2, though below it as integers.
  CHECK(d.bucket(int64_t{880000033}) == 2);
  CHECK(d.bucket(int64_t{880000063}) == 2);
  std::vector<int64_t> ts{879999967, 879999968, 880000032, 880000063};
  Tensor out = d.transform(ts);
  CHECK(std::vector<int32_t>(out.ids().begin(), out.ids().end()) == std::vector<int32_t>{0, 1, 1, 2});
}

TEST_CASE("Discretization adapt_linspace matches numpy.linspace(min, max, num) cast to float32") {
  Discretization d;
  // min 0, max 10, num 5: step = 10 / 4 = 2.5 -> 0, 2.5, 5, 7.5, 10
  d.adapt_linspace(std::vector<float>{3.0f, 0.0f, 10.0f, 5.0f}, 5);
  CHECK(d.boundaries() == std::vector<float>{0.0f, 2.5f, 5.0f, 7.5f, 10.0f});
  CHECK(d.num_buckets() == 6);
  CHECK(d.bucket(7.5f) == 4);

  // min 0, max 1, num 4: step = 1/3 in double; i * step is rounded in double, then cast to float32.
  d.adapt_linspace(std::vector<float>{1.0f, 0.0f}, 4);
  CHECK(d.boundaries() ==
        std::vector<float>{0.0f, static_cast<float>(1.0 / 3.0), static_cast<float>(2.0 * (1.0 / 3.0)), 1.0f});

  // num 1 gives [min]; num 0 gives no boundaries.
  d.adapt_linspace(std::vector<float>{7.0f, 3.0f}, 1);
  CHECK(d.boundaries() == std::vector<float>{3.0f});
  d.adapt_linspace(std::vector<float>{7.0f, 3.0f}, 0);
  CHECK(d.boundaries().empty());
  CHECK(d.num_buckets() == 1);
}

TEST_CASE("Discretization adapt_linspace with 1000 boundaries gives 1001 buckets") {
  Discretization d;
  // min 0, max 999, num 1000: step = 999 / 999 = 1 -> boundaries 0, 1, ..., 999, all exact.
  d.adapt_linspace(std::vector<int64_t>{500, 0, 999}, 1000);
  REQUIRE(d.boundaries().size() == 1000);
  CHECK(d.num_buckets() == 1001);
  CHECK(d.boundaries()[0] == 0.0f);
  CHECK(d.boundaries()[500] == 500.0f);
  CHECK(d.boundaries()[999] == 999.0f);
  CHECK(d.bucket(-1.0f) == 0);      // below 0
  CHECK(d.bucket(500.5f) == 501);   // boundaries 0..500 are <= 500.5
  CHECK(d.bucket(int64_t{999}) == 1000);
  CHECK(d.bucket(1.0e6f) == 1000);  // above the last: bucket 1000, the 1001st
}

TEST_CASE("Discretization adapt_linspace over int64 timestamps rounds the boundaries to float32") {
  Discretization d;
  // linspace(1000000001, 1000000401, 3) in double: 1000000001, 1000000201, 1000000401. Near 1e9
  // float32 values are 64 apart (1e9 = 15625000 * 64): 1000000001 -> 1e9 (1 above),
  // 1000000201 -> 1000000192 (9 above 3*64), 1000000401 -> 1000000384 (17 above 6*64).
  d.adapt_linspace(std::vector<int64_t>{1000000401, 1000000001, 1000000100}, 3);
  CHECK(d.boundaries() == std::vector<float>{1000000000.0f, 1000000192.0f, 1000000384.0f});
  // 1000000223 -> 1000000192 (31 above) -> on boundary 1 -> bucket 2
  CHECK(d.bucket(int64_t{1000000223}) == 2);
  Discretization rebuilt(d.boundaries());
  CHECK(rebuilt.bucket(int64_t{1000000223}) == 2);
}

TEST_CASE("Discretization adapt_linspace rejects bad input") {
  Discretization d(std::vector<float>{1.0f, 2.0f});
  CHECK_THROWS_AS(d.adapt_linspace(std::vector<float>{}, 3), UserError);
  CHECK_THROWS_AS(d.adapt_linspace(std::vector<float>{1.0f, 2.0f}, -1), UserError);
  CHECK_THROWS_WITH_AS(d.adapt_linspace(std::vector<float>{1.0f, std::nanf("")}, 3),
                       doctest::Contains("value 1 is nan"), UserError);
  // linspace(1e9, 1e9 + 10, 3) = 1e9, 1e9 + 5, 1e9 + 10 in double, all 1e9 in float32.
  CHECK_THROWS_WITH_AS(d.adapt_linspace(std::vector<int64_t>{1000000000, 1000000010}, 3),
                       doctest::Contains("float32 boundary 1"), UserError);
  // A single distinct value with more than one boundary collapses too.
  CHECK_THROWS_AS(d.adapt_linspace(std::vector<float>{4.0f, 4.0f}, 2), UserError);
  CHECK(d.boundaries() == std::vector<float>{1.0f, 2.0f});  // a failed adapt leaves the state alone
}
