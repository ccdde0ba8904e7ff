// ops/kernels/kernels.cpp: gemm for every transpose and accumulate combination, by hand and against a
// double-precision reference on shapes large enough to take oneDNN's blocked, threaded paths.
#include <cmath>
#include <cstring>
#include <random>

#include "op_test_util.hpp"
#include "ops/kernels/kernels.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// op(a) = [[1,2,3],[4,5,6]] (2x3) stored plainly, or transposed as [[1,4],[2,5],[3,6]] (3x2);
// op(b) = [[1,0],[0,1],[1,1]] (3x2) stored plainly, or transposed as [[1,0,1],[0,1,1]] (2x3).
// op(a)·op(b) = [[1+3, 2+3], [4+6, 5+6]] = [[4,5],[10,11]] for all four combinations.
Tensor hand_a(bool ta) {
  return ta ? Tensor::from({3, 2}, std::vector<float>{1, 4, 2, 5, 3, 6})
            : Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
}
Tensor hand_b(bool tb) {
  return tb ? Tensor::from({2, 3}, std::vector<float>{1, 0, 1, 0, 1, 1})
            : Tensor::from({3, 2}, std::vector<float>{1, 0, 0, 1, 1, 1});
}

Tensor random_tensor(Shape s, std::mt19937& rng) {
  Tensor t(std::move(s));
  std::uniform_real_distribution<float> u(-1, 1);
  for (float& v : t.values()) v = u(rng);
  return t;
}

// c0 + op(a)·op(b) in double, and the sum of |terms| for the tolerance.
void reference_product(const Tensor& a, bool ta, const Tensor& b, bool tb, int64_t m, int64_t k, int64_t n, int64_t i,
               int64_t j, double& value, double& magnitude) {
  value = 0;
  magnitude = 0;
  for (int64_t p = 0; p < k; ++p) {
    double x = ta ? a.f32()[p * m + i] : a.f32()[i * k + p];
    double y = tb ? b.f32()[j * k + p] : b.f32()[p * n + j];
    value += x * y;
    magnitude += std::fabs(x * y);
  }
}

}  // namespace

TEST_CASE("gemm by hand, every transpose, overwriting and accumulating") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      INFO("ta=" << ta << " tb=" << tb);
      Tensor c({2, 2});
      c.fill(std::nanf(""));  // overwritten, never read: a NaN must not leak into the result
      gemm(hand_a(ta), ta, hand_b(tb), tb, c, false);
      check_values(c, {4, 5, 10, 11});
      c.fill(1);  // accumulated into: 1 + [[4,5],[10,11]]
      gemm(hand_a(ta), ta, hand_b(tb), tb, c, true);
      check_values(c, {5, 6, 11, 12});
    }
}

TEST_CASE("gemm with an empty inner dimension writes zeros or leaves c alone") {
  Tensor a({2, 0}), b({0, 3}), c({2, 3});
  c.fill(7);
  gemm(a, false, b, false, c, true);  // c + (nothing) = c
  check_values(c, {7, 7, 7, 7, 7, 7});
  gemm(a, false, b, false, c, false);  // an empty sum is 0
  check_values(c, {0, 0, 0, 0, 0, 0});
}

TEST_CASE("gemm matches a double reference on model-like shapes, and repeats bit for bit") {
  std::mt19937 rng(3);
  struct Dims {
    int64_t m, k, n;
  };
  // Odd sizes (no multiple of a vector length), a dense layer's shapes at a small batch, and a long
  // inner dimension (the backward products of the logits) that oneDNN may split across threads.
  for (Dims d : {Dims{37, 53, 29}, Dims{300, 65, 64}, Dims{65, 300, 64}, Dims{48, 3000, 32}})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool acc : {false, true}) {
          INFO("m=" << d.m << " k=" << d.k << " n=" << d.n << " ta=" << ta << " tb=" << tb << " acc=" << acc);
          Tensor a = random_tensor(ta ? Shape{d.k, d.m} : Shape{d.m, d.k}, rng);
          Tensor b = random_tensor(tb ? Shape{d.n, d.k} : Shape{d.k, d.n}, rng);
          Tensor c0 = random_tensor({d.m, d.n}, rng);
          Tensor c = c0.clone();
          gemm(a, ta, b, tb, c, acc);
          int bad = 0;
          for (int64_t i = 0; i < d.m; ++i)
            for (int64_t j = 0; j < d.n; ++j) {
              double ref, mag;
              reference_product(a, ta, b, tb, d.m, d.k, d.n, i, j, ref, mag);
              if (acc) ref += c0.f32()[i * d.n + j];
              if (std::fabs(c.f32()[i * d.n + j] - ref) > 1e-5 * (1 + mag)) ++bad;
            }
          CHECK(bad == 0);
          Tensor again = c0.clone();
          gemm(a, ta, b, tb, again, acc);
          CHECK(std::memcmp(again.f32(), c.f32(), c.size() * 4) == 0);
        }
}
