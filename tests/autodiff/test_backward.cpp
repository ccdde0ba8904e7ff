// autodiff/backward.cpp: gradient buffers that hold nothing yet (zeroed on first use, or written
// by an op through Grads::out), a value read twice by one op, dense and sparse readers of one
// table in either order, and one Gradients serving two graphs in turn.
#include <doctest/doctest.h>

#include "autodiff/backward.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("a value read twice by one op gets both gradients added") {
  // loss = sum(x ⊙ x) + sum(x + x): d/dx = 2x + 2. Mul and Add write their first slot through
  // Grads::out (overwriting a buffer that holds nothing) and must add the second.
  Graph g;
  int x = g.param("x", Tensor::from({3}, std::vector<float>{1, -2, 0.5f}));
  int sq = g.add("ReduceSum", {g.add("Mul", {x, x})});
  int twice = g.add("ReduceSum", {g.add("Add", {x, x})});
  int loss = g.add("Add", {sq, twice});
  g.forward();
  Gradients grads;
  backward(g, loss, grads);
  check_values(grads.grad(x), {4, -2, 3});
  CHECK(grads.current(x));
  backward(g, loss, grads);  // recomputed, not accumulated across calls
  check_values(grads.grad(x), {4, -2, 3});
}

TEST_CASE("a table read by a lookup and by a dense op: dense gradient, right in either order") {
  // loss = sum(Embedding(table, ids)) + sum(table); ids [0, 2, 2]: d/dtable = count of the row's
  // id + 1 everywhere. The table has a dense reader, so its gradient is dense; the lookup adds
  // into it through Grads::operator[], which zeroes the buffer when it comes first.
  for (bool lookup_last : {false, true}) {
    INFO("lookup last in graph order: " << lookup_last);
    Graph g;
    int table = g.param("table", Tensor::from({3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}));
    int ids = g.input("ids", {{kBatch}, DType::i32});
    int dense_sum = -1, lookup_sum = -1;
    if (!lookup_last) lookup_sum = g.add("ReduceSum", {g.add("Embedding", {table, ids})});
    dense_sum = g.add("ReduceSum", {table});
    if (lookup_last) lookup_sum = g.add("ReduceSum", {g.add("Embedding", {table, ids})});
    int loss = g.add("Add", {lookup_sum, dense_sum});
    g.set_input(ids, Tensor::from_ids({3}, std::vector<int32_t>{0, 2, 2}));
    g.forward();
    Gradients grads;
    backward(g, loss, grads);
    CHECK_FALSE(grads.sparse(table));
    check_values(grads.grad(table), {2, 2, 1, 1, 3, 3});
  }
}

TEST_CASE("one Gradients serves two graphs in turn") {
  // a: loss = sum(w ⊙ w), dw = 2w; b: loss = sum(Embedding(t, ids)), sparse rows of t.
  Graph a, b;
  int w = a.param("w", Tensor::from({2}, std::vector<float>{3, -1}));
  int la = a.add("ReduceSum", {a.add("Mul", {w, w})});
  int t = b.param("t", Tensor::from({4, 1}, std::vector<float>{1, 2, 3, 4}));
  int ids = b.input("ids", {{kBatch}, DType::i32});
  int lb = b.add("ReduceSum", {b.add("Embedding", {t, ids})});
  b.set_input(ids, Tensor::from_ids({2}, std::vector<int32_t>{3, 1}));
  a.forward();
  b.forward();
  Gradients grads;
  for (int round = 0; round < 2; ++round) {
    backward(a, la, grads);
    check_values(grads.grad(w), {6, -2});
    CHECK_FALSE(grads.sparse(w));
    backward(b, lb, grads);
    REQUIRE(grads.sparse(t));
    CHECK(grads.rows(t) == std::vector<int32_t>{1, 3});
    check_values(grads.grad(t), {0, 1, 0, 1});
  }
}

TEST_CASE("backward refuses a loss that is not one value or that depends on nothing trainable") {
  Graph g;
  int x = g.input("x", {{kBatch, 2}});
  int w = g.param("w", Tensor::from({2, 1}, std::vector<float>{1, 1}));
  int y = g.add("MatMul", {x, w}, {}, "y");
  int c = g.add("ReduceSum", {x}, {}, "c");
  g.set_input(x, Tensor::zeros({3, 2}));
  g.forward();
  Gradients grads;
  CHECK_THROWS_WITH_AS(backward(g, y, grads), doctest::Contains("loss node 'y' must be a single value, has shape [3, 1]"),
                       UserError);
  CHECK_THROWS_WITH_AS(backward(g, c, grads), doctest::Contains("loss node 'c' depends on no parameter"), UserError);
}
