// ops/embedding_pool.cpp: EmbeddingMean and EmbeddingSum: values worked out by hand, bit-identity of
// EmbeddingMean with MaskedMean over Embedding (forward, and the table gradient through a graph, for 1
// and 2 threads), and the layers building them (MaskedMean, EmbeddingBag).
#include <omp.h>

#include <random>

#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// table rows: 0 -> [9, 9] (padding, never read), 1 -> [1, 2], 2 -> [3, 4], 3 -> [5, 6].
Tensor table4() { return Tensor::from({4, 2}, std::vector<float>{9, 9, 1, 2, 3, 4, 5, 6}); }
// Row 0: ids 1 0 3 (middle is padding); row 1: 0 0 0 (empty); row 2: 2 2 1.
Tensor ids3() { return Tensor::from_ids({3, 3}, std::vector<int32_t>{1, 0, 3, 0, 0, 0, 2, 2, 1}); }

}  // namespace

TEST_CASE("EmbeddingMean forward: mean of the rows of nonzero ids, zeros for an empty row") {
  Tensor out = test::run_forward("EmbeddingMean", {}, {table4(), ids3()});
  CHECK(out.shape() == Shape{3, 2});
  // row 0: ([1,2] + [5,6]) / 2 = [3,4]; row 1: [0,0]; row 2: ([3,4] + [3,4] + [1,2]) / 3 = [7/3, 10/3]
  check_values(out, {3, 4, 0, 0, 7.0f / 3, 10.0f / 3});
}

TEST_CASE("EmbeddingMean backward: each nonzero id's row gets dout / count, sparse rows recorded") {
  auto op = OpRegistry::instance().make("EmbeddingMean", {});
  Tensor table = table4(), ids = ids3(), out({3, 2});
  op->forward({&table, &ids}, out);
  Tensor dout = Tensor::from({3, 2}, std::vector<float>{2, 4, 7, 7, 3, 6});
  Tensor dtable = Tensor::zeros({4, 2});
  std::vector<int32_t> rows;
  op->backward({&table, &ids}, out, dout, Grads({&dtable, nullptr}, {&rows, nullptr}));
  // row 0 (count 2): ids 1 and 3 get [2,4]/2 = [1,2]. row 1: empty, nothing.
  // row 2 (count 3): id 2 twice gets 2·[3,6]/3 = [2,4]; id 1 gets [1,2].
  // Table rows: 0 -> 0; 1 -> [1,2] + [1,2] = [2,4]; 2 -> [2,4]; 3 -> [1,2].
  check_values(dtable, {0, 0, 2, 4, 2, 4, 1, 2});
  std::sort(rows.begin(), rows.end());
  CHECK(rows == std::vector<int32_t>{1, 1, 2, 2, 3});  // every nonzero id, padding left out
}

TEST_CASE("EmbeddingSum: the sum of the rows of nonzero ids forward, dout to each nonzero id backward") {
  Tensor out = test::run_forward("EmbeddingSum", {}, {table4(), ids3()});
  CHECK(out.shape() == Shape{3, 2});
  // row 0: [1,2] + [5,6] = [6,8]; row 1: [0,0]; row 2: [3,4] + [3,4] + [1,2] = [7,10]
  check_values(out, {6, 8, 0, 0, 7, 10});
  auto op = OpRegistry::instance().make("EmbeddingSum", {});
  Tensor table = table4(), ids = ids3();
  op->forward({&table, &ids}, out);
  Tensor dout = Tensor::from({3, 2}, std::vector<float>{2, 4, 7, 7, 3, 6});
  Tensor dtable = Tensor::zeros({4, 2});
  std::vector<int32_t> rows;
  op->backward({&table, &ids}, out, dout, Grads({&dtable, nullptr}, {&rows, nullptr}));
  // id 1: [2,4] (row 0) + [3,6] (row 2) = [5,10]; id 2 twice in row 2: [6,12]; id 3: [2,4].
  check_values(dtable, {0, 0, 5, 10, 6, 12, 2, 4});
  std::sort(rows.begin(), rows.end());
  CHECK(rows == std::vector<int32_t>{1, 1, 2, 2, 3});
  Tensor bad = Tensor::from_ids({1, 2}, std::vector<int32_t>{-1, 0});
  CHECK_THROWS_WITH_AS(op->forward({&table, &bad}, out), doctest::Contains("EmbeddingSum: id -1 at ids[0, 0]"), UserError);
}

TEST_CASE("EmbeddingMean rejects bad shapes and out-of-range ids") {
  auto op = OpRegistry::instance().make("EmbeddingMean", {});
  CHECK_THROWS_AS(op->infer({{{4, 2}}, {{3}, DType::i32}}), UserError);
  CHECK_THROWS_AS(op->infer({{{4, 2}}, {{3, 3}, DType::f32}}), UserError);
  CHECK(op->infer({{{4, 2}}, {{kBatch, 5}, DType::i32}}).shape == Shape{kBatch, 2});
  Tensor table = table4(), ids = Tensor::from_ids({1, 2}, std::vector<int32_t>{1, 4}), out({1, 2});
  CHECK_THROWS_WITH_AS(op->forward({&table, &ids}, out), doctest::Contains("id 4 at ids[0, 1]"), UserError);
}

TEST_CASE("EmbeddingMean equals MaskedMean of Embedding bit for bit, forward and table gradient") {
  // 1400 x 24 tokens of width 32 (1,075,200 elements: the parallel paths), ids 0..99 with padding.
  const int64_t v = 100, d = 32, b = 1400, t = 24;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int32_t> uid(0, v - 1);
  Tensor table({v, d}), ids({b, t}, DType::i32), dout({b, d});
  for (float& x : table.values()) x = u(rng);
  for (int64_t i = 0; i < b * t; ++i) ids.i32()[i] = uid(rng) % 3 == 0 ? 0 : uid(rng);
  for (int64_t k = 0; k < t; ++k) ids.i32()[7 * t + k] = 0;  // one empty row
  for (float& x : dout.values()) x = u(rng);

  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    INFO("threads " << threads);
    // Both forms in one graph, each reduced to a loss sum(out ⊙ dout) through Mul and ReduceSum.
    Graph g;
    int tab_a = g.param("a", table.clone()), tab_b = g.param("b", table.clone());
    int id = g.input("ids", {{kBatch, t}, DType::i32});
    int w = g.input("w", {{kBatch, d}});
    int fused = g.add("EmbeddingMean", {tab_a, id});
    int plain = g.add("MaskedMean", {g.add("Embedding", {tab_b, id}), id});
    int loss_a = g.add("ReduceSum", {g.add("Mul", {fused, w})});
    int loss_b = g.add("ReduceSum", {g.add("Mul", {plain, w})});
    g.set_input(id, ids);
    g.set_input(w, dout);
    g.forward();
    for (int64_t k = 0; k < b * d; ++k) REQUIRE(g.value(fused).f32()[k] == g.value(plain).f32()[k]);
    Gradients grads;
    backward(g, loss_a, grads);
    Tensor grad_a = grads.grad(tab_a).clone();
    std::vector<int32_t> rows_a = grads.rows(tab_a);
    backward(g, loss_b, grads);
    // The unfused table also records row 0 (padding, zero gradient); compare the nonzero rows.
    std::vector<int32_t> rows_b = grads.rows(tab_b);
    rows_b.erase(std::remove(rows_b.begin(), rows_b.end(), 0), rows_b.end());
    CHECK(rows_a == rows_b);
    for (int32_t r : rows_a)
      for (int64_t c = 0; c < d; ++c) REQUIRE(grad_a.f32()[r * d + c] == grads.grad(tab_b).f32()[r * d + c]);
  }
  omp_set_num_threads(saved);
}

TEST_CASE("ShardedEmbedding in one process is Embedding, EmbeddingMean and EmbeddingSum, bit for bit, forward and backward") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  std::uniform_int_distribution<int32_t> id(0, 6);  // 7 rows, ids repeated, some padding
  Tensor table({7, 5}), dout3({6, 5}), dout2({6, 4, 5});
  for (float& v : table.values()) v = u(rng);
  for (float& v : dout3.values()) v = u(rng);
  for (float& v : dout2.values()) v = u(rng);
  Tensor ids({6, 4}, DType::i32);
  for (int32_t& v : std::span<int32_t>(ids.i32(), 24)) v = id(rng);
  for (const auto& ops : std::vector<std::pair<std::string, std::string>>{
           {"Embedding", "lookup"}, {"EmbeddingMean", "mean"}, {"EmbeddingSum", "sum"}}) {
    const std::string plain = ops.first, mode = ops.second;  // not a structured binding: INFO's lambda reads it (clang 14)
    INFO(plain);
    auto a = OpRegistry::instance().make(plain, {});
    auto b = OpRegistry::instance().make("ShardedEmbedding", {{"rows", int64_t{7}}, {"mode", mode}});
    const bool lookup = mode == "lookup";
    Tensor out_a(lookup ? Shape{6, 4, 5} : Shape{6, 5}), out_b(out_a.shape());
    a->forward({&table, &ids}, out_a);
    b->forward({&table, &ids}, out_b);
    CHECK(std::equal(out_a.values().begin(), out_a.values().end(), out_b.values().begin()));
    const Tensor& dout = lookup ? dout2 : dout3;
    Tensor da = Tensor::zeros({7, 5}), db = Tensor::zeros({7, 5});
    std::vector<int32_t> ra, rb;
    a->backward({&table, &ids}, out_a, dout, Grads({&da, nullptr}, {&ra, nullptr}));
    b->backward({&table, &ids}, out_b, dout, Grads({&db, nullptr}, {&rb, nullptr}));
    CHECK(std::equal(da.values().begin(), da.values().end(), db.values().begin()));
    std::sort(ra.begin(), ra.end());
    std::sort(rb.begin(), rb.end());
    CHECK(ra == rb);
  }
  // Without a world the table must be the whole one.
  CHECK_THROWS_WITH_AS(OpRegistry::instance().make("ShardedEmbedding", {{"rows", int64_t{8}}})->infer(
                           {{{7, 5}, DType::f32}, {{6}, DType::i32}}),
                       doctest::Contains("table has 7 rows; expected 8 (the whole table"), UserError);
}
