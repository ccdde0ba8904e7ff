// ops/reduce_sum.cpp (and the shared ops/reduce_op.hpp): values worked out by hand.
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {
// [[1, 2, 3], [4, 5, 6]]
Tensor m23() { return Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}); }
// [2, 3, 2] holding 1..12
Tensor r3() { return Tensor::from({2, 3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}); }
}  // namespace

TEST_CASE("ReduceSum forward over every axis choice") {
  // Everything: 1+...+6 = 21, shape [1]; with keepdims [1, 1].
  Tensor all = test::run_forward("ReduceSum", {}, {m23()});
  CHECK(all.shape() == Shape{1});
  check_values(all, {21});
  Tensor allk = test::run_forward("ReduceSum", {{"keepdims", true}}, {m23()});
  CHECK(allk.shape() == Shape{1, 1});
  check_values(allk, {21});
  // Axis 0: column sums [1+4, 2+5, 3+6].
  Tensor c = test::run_forward("ReduceSum", {{"axis", int64_t{0}}}, {m23()});
  CHECK(c.shape() == Shape{3});
  check_values(c, {5, 7, 9});
  // Axis 1 / -1: row sums [6, 15]; keepdims gives [2, 1].
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{1}}}, {m23()}), {6, 15});
  Tensor rk = test::run_forward("ReduceSum", {{"axis", int64_t{-1}}, {"keepdims", true}}, {m23()});
  CHECK(rk.shape() == Shape{2, 1});
  check_values(rk, {6, 15});
  // Rank 3, axis 1: [1,2]+[3,4]+[5,6] = [9, 12]; [7,8]+[9,10]+[11,12] = [27, 30].
  Tensor mid = test::run_forward("ReduceSum", {{"axis", int64_t{1}}}, {r3()});
  CHECK(mid.shape() == Shape{2, 2});
  check_values(mid, {9, 12, 27, 30});
  // Rank 3, axis -3 with keepdims: first block + second block = [1+7, 2+8, ..., 6+12], shape [1, 3, 2].
  Tensor first = test::run_forward("ReduceSum", {{"axis", int64_t{-3}}, {"keepdims", true}}, {r3()});
  CHECK(first.shape() == Shape{1, 3, 2});
  check_values(first, {8, 10, 12, 14, 16, 18});
  // Rank 3, axis 2: pairs [1+2, 3+4, ...] = [3, 7, 11, 15, 19, 23].
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{2}}}, {r3()}), {3, 7, 11, 15, 19, 23});
  // Rank 1, axis 0: everything, shape [1].
  Tensor v = test::run_forward("ReduceSum", {{"axis", int64_t{0}}}, {Tensor::from({3}, std::vector<float>{1, -2, 4})});
  CHECK(v.shape() == Shape{1});
  check_values(v, {3});
}

TEST_CASE("ReduceSum backward broadcasts dout back") {
  // Everything, dout = [2]: every element gets 2.
  check_values(test::run_backward("ReduceSum", {}, {m23()}, Tensor::from({1}, std::vector<float>{2}))[0],
               {2, 2, 2, 2, 2, 2});
  // Axis 0, dout = [1, 2, 3]: each row gets [1, 2, 3].
  check_values(test::run_backward("ReduceSum", {{"axis", int64_t{0}}}, {m23()},
                                  Tensor::from({3}, std::vector<float>{1, 2, 3}))[0],
               {1, 2, 3, 1, 2, 3});
  // Axis -1 with keepdims, dout = [[1], [-1]]: row 0 gets 1, row 1 gets -1.
  check_values(test::run_backward("ReduceSum", {{"axis", int64_t{-1}}, {"keepdims", true}}, {m23()},
                                  Tensor::from({2, 1}, std::vector<float>{1, -1}))[0],
               {1, 1, 1, -1, -1, -1});
  // Rank 3, axis 1, dout = [[1, 2], [3, 4]]: dx[o, k, i] = dout[o, i].
  check_values(test::run_backward("ReduceSum", {{"axis", int64_t{1}}}, {r3()},
                                  Tensor::from({2, 2}, std::vector<float>{1, 2, 3, 4}))[0],
               {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
}

TEST_CASE("ReduceSum of large tensors") {
  // [70000, 16] over axis 0 (loop, many row blocks, parallel from 2^20 elements): x[i][j] =
  // (i mod 7) + j sums to 70000·j + 210000 (70000 = 7·10000: Σ (i mod 7) = 10000·21); all exact
  // in f32.
  std::vector<float> x(70000 * 16), cols(16);
  for (int i = 0; i < 70000; ++i)
    for (int j = 0; j < 16; ++j) x[i * 16 + j] = static_cast<float>(i % 7 + j);
  for (int j = 0; j < 16; ++j) cols[j] = static_cast<float>(70000 * j + 210000);
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{0}}}, {Tensor::from({70000, 16}, x)}), cols);
  // [32768, 32] over axis -1 (oneDNN, 2^20 elements): x[i][j] = j, every row sums to 0+...+31 = 496.
  std::vector<float> big(32768 * 32);
  for (int i = 0; i < 32768 * 32; ++i) big[i] = static_cast<float>(i % 32);
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{-1}}}, {Tensor::from({32768, 32}, big)}),
               std::vector<float>(32768, 496.0f));
  // [2048, 32] over axis -1 (a serial loop below 2^20 elements): the same rows.
  std::vector<float> y(2048 * 32);
  for (int i = 0; i < 2048 * 32; ++i) y[i] = static_cast<float>(i % 32);
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{-1}}}, {Tensor::from({2048, 32}, y)}),
               std::vector<float>(2048, 496.0f));
  // All 65536 of them: 2048 rows · 496 = 1015808.
  check_values(test::run_forward("ReduceSum", {}, {Tensor::from({2048, 32}, y)}), {1015808});
  // Backward over axis 0 with dout = [0, 1, ..., 15]: every row of dx is [0, ..., 15].
  std::vector<float> d(16), dx(70000 * 16);
  for (int j = 0; j < 16; ++j) d[j] = static_cast<float>(j);
  for (int i = 0; i < 70000 * 16; ++i) dx[i] = static_cast<float>(i % 16);
  check_values(test::run_backward("ReduceSum", {{"axis", int64_t{0}}}, {Tensor::from({70000, 16}, x)},
                                  Tensor::from({16}, d))[0],
               dx);
}

TEST_CASE("ReduceSum shapes with a batch dimension, and errors") {
  auto shape = [](const Attrs& a, Shape in) {
    return OpRegistry::instance().make("ReduceSum", a)->infer({{in}}).shape;
  };
  CHECK(shape({}, {kBatch, 3}) == Shape{1});
  CHECK(shape({{"axis", int64_t{0}}}, {kBatch, 3}) == Shape{3});
  CHECK(shape({{"axis", int64_t{0}}, {"keepdims", true}}, {kBatch, 3}) == Shape{1, 3});
  CHECK(shape({{"axis", int64_t{1}}}, {kBatch, 3}) == Shape{kBatch});
  CHECK(shape({{"axis", int64_t{-2}}}, {kBatch, 4, 3}) == Shape{kBatch, 3});
  CHECK(shape({{"keepdims", true}}, {kBatch, 4, 3}) == Shape{1, 1, 1});
  try {
    shape({{"axis", int64_t{2}}}, {kBatch, 3});
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("axis 2") != std::string::npos);
    CHECK(m.find("rank 2") != std::string::npos);
  }
  CHECK_THROWS_AS(shape({{"axis", int64_t{-3}}}, {2, 3}), UserError);
  CHECK_THROWS_AS(OpRegistry::instance().make("ReduceSum", {{"axes", int64_t{0}}}), UserError);
  CHECK_THROWS_AS(OpRegistry::instance().make("ReduceSum", {{"axis", 0.5}}), UserError);
}

TEST_CASE("ReduceSum and BiasAdd on a batch of zero rows") {
  // Summing no rows gives zeros; a bias gradient over no rows adds nothing.
  Tensor empty = Tensor::zeros({0, 3});
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{0}}}, {empty}), {0, 0, 0});
  CHECK(test::run_forward("ReduceSum", {{"axis", int64_t{1}}}, {empty}).size() == 0);
  auto g = test::run_backward("BiasAdd", {}, {empty, Tensor::from({3}, std::vector<float>{1, 2, 3})}, empty);
  check_values(g[1], {0, 0, 0});
}

TEST_CASE("ReduceSum of one element per output is that element (a batch of one row)") {
  check_values(test::run_forward("ReduceSum", {}, {Tensor::from({1}, std::vector<float>{-4})}), {-4});
  check_values(test::run_forward("ReduceSum", {{"axis", int64_t{1}}}, {Tensor::from({2, 1}, std::vector<float>{7, 8})}), {7, 8});
}
