// models/metrics/auc.cpp: ROC AUC worked out pair by pair, ties counted half, a brute-force
// reference over every pair, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "graph/error.hpp"
#include "models/metrics/auc.hpp"

using namespace dagrad;

namespace {

double auc_of(const std::vector<float>& scores, const std::vector<float>& labels) {
  metrics::Auc m;
  const int64_t n = static_cast<int64_t>(scores.size());
  m.update(Tensor::from({n}, scores), Tensor::from({n}, labels));
  return m.result();
}

}  // namespace

TEST_CASE("Auc by hand") {
  // Positives 0.35, 0.8; negatives 0.1, 0.4. Pairs (pos, neg):
  // (0.35, 0.1) win, (0.35, 0.4) loss, (0.8, 0.1) win, (0.8, 0.4) win -> 3 / 4 = 0.75
  CHECK(auc_of({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}) == 0.75);
  // Ties count half. Positives 0.5, 0.9; negatives 0.5, 0.2:
  // (0.5, 0.5) tie 0.5, (0.5, 0.2) 1, (0.9, 0.5) 1, (0.9, 0.2) 1 -> 3.5 / 4 = 0.875
  CHECK(auc_of({0.5f, 0.5f, 0.2f, 0.9f}, {1, 0, 0, 1}) == 0.875);
  // All scores equal: every pair ties -> 0.5. Perfectly separated: 1; reversed: 0.
  CHECK(auc_of({0.3f, 0.3f, 0.3f}, {1, 0, 0}) == 0.5);
  CHECK(auc_of({0.9f, 0.8f, 0.1f, 0.2f}, {1, 1, 0, 0}) == 1.0);
  CHECK(auc_of({0.1f, 0.2f, 0.9f}, {1, 1, 0}) == 0.0);
  // Three positives 0.7, 0.4, 0.4; two negatives 0.4, 0.1 (6 pairs):
  // 0.7 beats both (2); each 0.4 ties 0.4 (0.5) and beats 0.1 (1) -> 2 + 1.5 + 1.5 = 5 / 6
  CHECK(auc_of({0.7f, 0.4f, 0.4f, 0.4f, 0.1f}, {1, 1, 0, 1, 0}) == doctest::Approx(5.0 / 6).epsilon(1e-15));
}

TEST_CASE("Auc accumulates over updates, with i32 or f32 labels of any shape") {
  // The first hand case split into two updates, the second with i32 labels as a [1, 2] matrix.
  metrics::Auc m;
  m.update(Tensor::from({2}, std::vector<float>{0.1f, 0.4f}), Tensor::from({2}, std::vector<float>{0, 0}));
  CHECK_THROWS_AS(m.result(), UserError);  // negatives only so far
  m.update(Tensor::from({1, 2}, std::vector<float>{0.35f, 0.8f}), Tensor::from_ids({1, 2}, std::vector<int32_t>{1, 1}));
  CHECK(m.count() == 4);
  CHECK(m.result() == 0.75);
}

TEST_CASE("Auc equals the pairwise count on tie-heavy random data") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> grid(0, 20);
  std::bernoulli_distribution coin(0.3);
  std::vector<float> s(3000), l(3000);
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = 0.05f * static_cast<float>(grid(rng));  // 21 distinct values: many ties
    l[i] = coin(rng) ? 1.0f : 0.0f;
  }
  double twice = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (l[i] == 1 && l[j] == 0) {
        twice += s[i] > s[j] ? 2 : s[i] == s[j] ? 1 : 0;
        pairs += 1;
      }
  CHECK(auc_of(s, l) == doctest::Approx(twice / (2 * pairs)).epsilon(1e-14));
}

TEST_CASE("Auc rejects empty, one-class and malformed input") {
  metrics::Auc m;
  CHECK_THROWS_AS(m.result(), UserError);
  m.update(Tensor({0}), Tensor({0}));
  CHECK_THROWS_AS(m.result(), UserError);
  CHECK_THROWS_AS(auc_of({0.2f, 0.9f}, {1, 1}), UserError);
  CHECK_THROWS_AS(m.update(Tensor::from({2}, std::vector<float>{0.2f, 0.9f}), Tensor({3})), UserError);
  CHECK_THROWS_AS(m.update(Tensor::from_ids({2}, std::vector<int32_t>{1, 2}), Tensor({2})), UserError);
  // A failed update adds nothing.
  CHECK_THROWS_AS(m.update(Tensor::from({3}, std::vector<float>{0.2f, 0.9f, 0.5f}),
                           Tensor::from({3}, std::vector<float>{1, 0, 2})),
                  UserError);
  CHECK_THROWS_AS(m.update(Tensor::from({2}, std::vector<float>{0.2f, std::nanf("")}),
                           Tensor::from({2}, std::vector<float>{1, 0})),
                  RuntimeFailure);
  CHECK(m.count() == 0);
}
