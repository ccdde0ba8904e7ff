// ops/reduce_mean.cpp: values worked out by hand.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {
Tensor mean_m23() { return Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}); }
Tensor mean_r3() { return Tensor::from({2, 3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}); }
}  // namespace

TEST_CASE("ReduceMean forward") {
  // Everything: 21 / 6 = 3.5.
  Tensor all = test::run_forward("ReduceMean", {}, {mean_m23()});
  CHECK(all.shape() == Shape{1});
  check_values(all, {3.5f});
  // Axis 0: [5, 7, 9] / 2; axis 1: [6, 15] / 3.
  check_values(test::run_forward("ReduceMean", {{"axis", int64_t{0}}}, {mean_m23()}), {2.5f, 3.5f, 4.5f});
  Tensor rows = test::run_forward("ReduceMean", {{"axis", int64_t{1}}, {"keepdims", true}}, {mean_m23()});
  CHECK(rows.shape() == Shape{2, 1});
  check_values(rows, {2, 5});
  // Rank 3, axis 1: [9, 12, 27, 30] / 3.
  check_values(test::run_forward("ReduceMean", {{"axis", int64_t{1}}}, {mean_r3()}), {3, 4, 9, 10});
  // Rank 3, everything with keepdims: 78 / 12 = 6.5, shape [1, 1, 1].
  Tensor allk = test::run_forward("ReduceMean", {{"keepdims", true}}, {mean_r3()});
  CHECK(allk.shape() == Shape{1, 1, 1});
  check_values(allk, {6.5f});
}

TEST_CASE("ReduceMean backward spreads dout evenly") {
  // Everything, dout = [6]: each of 6 elements gets 1.
  check_values(test::run_backward("ReduceMean", {}, {mean_m23()}, Tensor::from({1}, std::vector<float>{6}))[0],
               {1, 1, 1, 1, 1, 1});
  // Axis 0 over 2 rows, dout = [3, 6, 9]: each row gets [1.5, 3, 4.5].
  check_values(test::run_backward("ReduceMean", {{"axis", int64_t{0}}}, {mean_m23()},
                                  Tensor::from({3}, std::vector<float>{3, 6, 9}))[0],
               {1.5f, 3, 4.5f, 1.5f, 3, 4.5f});
  // Axis -1 over 3 columns, dout = [3, -6]: row 0 gets 1, row 1 gets -2.
  check_values(test::run_backward("ReduceMean", {{"axis", int64_t{-1}}}, {mean_m23()},
                                  Tensor::from({2}, std::vector<float>{3, -6}))[0],
               {1, 1, 1, -2, -2, -2});
  // Rank 3, axis 1 over 3, dout = [[3, 6], [9, 12]]: dx[o, k, i] = dout[o, i] / 3.
  check_values(test::run_backward("ReduceMean", {{"axis", int64_t{1}}}, {mean_r3()},
                                  Tensor::from({2, 2}, std::vector<float>{3, 6, 9, 12}))[0],
               {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
}

TEST_CASE("ReduceMean of large tensors") {
  // [600, 2] over axis 0: x[i][j] = (i mod 7) + j; 600 = 7·85 + 5, so Σ (i mod 7) = 85·21 + 10 = 1795
  // and the column means are 1795/600 + j.
  std::vector<float> x(600 * 2);
  for (int i = 0; i < 600; ++i)
    for (int j = 0; j < 2; ++j) x[i * 2 + j] = static_cast<float>(i % 7 + j);
  check_values(test::run_forward("ReduceMean", {{"axis", int64_t{0}}}, {Tensor::from({600, 2}, x)}),
               {1795.0f / 600, 1795.0f / 600 + 1});
  // [2048, 32] over axis 1 (oneDNN): x[i][j] = j, every row's mean is 496 / 32 = 15.5; all: 15.5.
  std::vector<float> y(2048 * 32);
  for (int i = 0; i < 2048 * 32; ++i) y[i] = static_cast<float>(i % 32);
  check_values(test::run_forward("ReduceMean", {{"axis", int64_t{1}}}, {Tensor::from({2048, 32}, y)}),
               std::vector<float>(2048, 15.5f));
  check_values(test::run_forward("ReduceMean", {}, {Tensor::from({2048, 32}, y)}), {15.5f});
  // Backward of the mean of all 65536 with dout = [65536]: every element gets 1.
  check_values(test::run_backward("ReduceMean", {}, {Tensor::from({2048, 32}, y)},
                                  Tensor::from({1}, std::vector<float>{65536}))[0],
               std::vector<float>(2048 * 32, 1.0f));
}

TEST_CASE("ReduceMean of one element per row (a batch of one) is that element") {
  // The mean of one number is the number: [7] -> [7]; [[2], [-3]] over axis -1 -> [2, -3].
  check_values(test::run_forward("ReduceMean", {}, {Tensor::from({1}, std::vector<float>{7})}), {7});
  check_values(test::run_forward("ReduceMean", {{"axis", int64_t{-1}}}, {Tensor::from({2, 1}, std::vector<float>{2, -3})}),
               {2, -3});
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{1}}}, {Tensor::from({2, 1}, std::vector<float>{2, -3})}),
               {2, -3});
}
