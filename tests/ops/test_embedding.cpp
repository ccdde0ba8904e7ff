// ops/embedding.cpp: gather and scatter-add values worked out by hand, recorded rows, id errors,
// and the parallel backward against a serial loop (bit-identical for any thread count).
#include <omp.h>

#include <random>

#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// table row r = [10r, 10r + 1]
Tensor table4x2() { return Tensor::from({4, 2}, std::vector<float>{0, 1, 10, 11, 20, 21, 30, 31}); }

}  // namespace

TEST_CASE("Embedding forward gathers rows, out shape = ids shape + [D]") {
  Tensor ids = Tensor::from_ids({2, 2}, std::vector<int32_t>{3, 0, 3, 1});
  Tensor out = test::run_forward("Embedding", {}, {table4x2(), ids});
  CHECK(out.shape() == Shape{2, 2, 2});
  // rows 3, 0, 3, 1
  check_values(out, {30, 31, 0, 1, 30, 31, 10, 11});
  // A rank-0 id gives one row of shape [D].
  Tensor one = test::run_forward("Embedding", {}, {table4x2(), Tensor::from_ids({}, std::vector<int32_t>{2})});
  CHECK(one.shape() == Shape{2});
  check_values(one, {20, 21});
}

TEST_CASE("Embedding backward scatter-adds dout rows, accumulates and records touched rows") {
  Tensor table = table4x2();
  Tensor ids = Tensor::from_ids({2, 2}, std::vector<int32_t>{3, 0, 3, 1});
  Tensor dout = Tensor::from({2, 2, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  auto op = OpRegistry::instance().make("Embedding", {});
  Tensor out({2, 2, 2});
  op->forward({&table, &ids}, out);
  // Start from ones: backward must add, not overwrite.
  Tensor dtable({4, 2});
  dtable.fill(1.0f);
  std::vector<int32_t> rows;
  std::vector<Tensor*> dense{&dtable, nullptr};
  std::vector<std::vector<int32_t>*> sparse{&rows, nullptr};
  op->backward({&table, &ids}, out, dout, Grads(dense, sparse));
  // row 0 <- dout[0,1] = [3,4]; row 1 <- dout[1,1] = [7,8]; row 2 untouched;
  // row 3 <- dout[0,0] + dout[1,0] = [1+5, 2+6] = [6,8]; plus the initial 1 everywhere.
  check_values(dtable, {4, 5, 8, 9, 1, 1, 7, 9});
  CHECK(rows == std::vector<int32_t>{3, 0, 3, 1});
  CHECK(op->sparse_rows(0));
  CHECK_FALSE(op->sparse_rows(1));
}

TEST_CASE("Embedding rejects an id outside the table, naming id, position and row count") {
  auto expect_error = [](std::vector<int32_t> v, const std::string& id, const std::string& pos) {
    Tensor ids = Tensor::from_ids({2, 2}, v);
    try {
      test::run_forward("Embedding", {}, {table4x2(), ids});
      FAIL("no error");
    } catch (const UserError& e) {
      std::string m = e.what();
      INFO(m);
      CHECK(m.find("id " + id) != std::string::npos);
      CHECK(m.find("ids[" + pos + "]") != std::string::npos);
      CHECK(m.find("[0, 4)") != std::string::npos);
    }
  };
  expect_error({0, 1, 2, 4}, "4", "1, 1");
  expect_error({0, -1, 7, 3}, "-1", "0, 1");  // the first bad id in row-major order
}

TEST_CASE("Embedding rejects a table that is not a matrix and non-i32 ids") {
  auto op = OpRegistry::instance().make("Embedding", {});
  CHECK_THROWS_AS(op->infer({{{4}}, {{3}, DType::i32}}), UserError);
  CHECK_THROWS_AS(op->infer({{{4, 2}}, {{3}, DType::f32}}), UserError);
  CHECK(op->infer({{{4, 2}}, {{kBatch, 5}, DType::i32}}).shape == Shape{kBatch, 5, 2});
}

TEST_CASE("Embedding parallel backward equals a serial scatter-add exactly, for 1 and 2 threads") {
  const int64_t v = 1000, d = 16, n = 81920;  // n·d = 1,310,720: above the parallel threshold (2^20)
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> uid(0, v - 1);
  std::uniform_real_distribution<float> u(-1, 1);
  Tensor table({v, d}), ids({64, n / 64}, DType::i32), dout({64, n / 64, d});
  for (float& x : table.values()) x = u(rng);
  for (int64_t i = 0; i < n; ++i) ids.i32()[i] = uid(rng) % 50;  // rows 0..49: many repeats
  for (float& x : dout.values()) x = u(rng);

  Tensor ref = Tensor::zeros({v, d});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < d; ++c) ref.f32()[ids.i32()[i] * d + c] += dout.f32()[i * d + c];

  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    INFO("threads " << threads);
    Tensor out = test::run_forward("Embedding", {}, {table, ids});
    for (int64_t i = 0; i < n; i += 97)
      for (int64_t c = 0; c < d; ++c) REQUIRE(out.f32()[i * d + c] == table.f32()[ids.i32()[i] * d + c]);
    auto g = test::run_backward("Embedding", {}, {table, ids}, dout);
    for (int64_t k = 0; k < v * d; ++k) REQUIRE(g[0].f32()[k] == ref.f32()[k]);
  }
  omp_set_num_threads(saved);
}
