// graph/graph.cpp and autodiff/: building, shape errors, forward, backward, sparse rows.
#include <doctest/doctest.h>

#include <cmath>

#include "autodiff/backward.hpp"
#include "autodiff/gradcheck.hpp"
#include "graph/graph.hpp"
#include "op_test_util.hpp"

using namespace dagrad;

TEST_CASE("shapes are inferred with a symbolic batch dimension") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  int w = g.param("w", Tensor::zeros({3, 4}));
  int y = g.add("MatMul", {x, w}, {}, "y");
  CHECK(g.node(y).type.shape == Shape{kBatch, 4});
  int logits = g.add("MatMul", {y, y}, {{"transpose_b", true}}, "logits");
  CHECK(g.node(logits).type.shape == Shape{kBatch, kBatch});
  CHECK(g.param_count() == 12);
  std::string s = g.summary(2048);
  CHECK(s.find("logits") != std::string::npos);
  CHECK(s.find("[B, 4]") != std::string::npos);
}

TEST_CASE("a shape mismatch names the node, the op and the input shapes") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  int w = g.param("w", Tensor::zeros({5, 4}));
  try {
    g.add("MatMul", {x, w}, {}, "dense");
    FAIL("no error");
  } catch (const UserError& e) {
    std::string m = e.what();
    CHECK(m.find("node 'dense' (MatMul)") != std::string::npos);
    CHECK(m.find("x [B, 3]") != std::string::npos);
    CHECK(m.find("w [5, 4]") != std::string::npos);
  }
}

TEST_CASE("wrong arity and duplicate names are user errors") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  CHECK_THROWS_AS(g.add("Relu", {x, x}), UserError);
  CHECK_THROWS_AS(g.input("x", {{2}}), UserError);
  CHECK_THROWS_AS(g.add("NoSuchOp", {x}), UserError);
}

TEST_CASE("set_input checks dtype and fixed dimensions") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  CHECK_NOTHROW(g.set_input(x, Tensor::zeros({7, 3})));
  CHECK_THROWS_AS(g.set_input(x, Tensor::zeros({7, 2})), UserError);
  CHECK_THROWS_AS(g.set_input(x, Tensor::zeros({7, 3}, DType::i32)), UserError);
}

TEST_CASE("forward and backward of a two-layer network, by hand") {
  // y = relu(x·W1)·W2, loss = y (1x1). x = [1, 2], W1 = [[1, -1], [1, 1]], W2 = [[2], [3]].
  // x·W1 = [3, 1]; relu = [3, 1]; y = 6 + 3 = 9.
  // dW2 = reluᵀ = [[3], [1]]; dh = [2, 3]; dW1 = xᵀ·dh = [[2, 3], [4, 6]]; dx not needed.
  Graph g;
  int x = g.input("x", {{kBatch, 2}});
  int w1 = g.param("w1", Tensor::from({2, 2}, std::vector<float>{1, -1, 1, 1}));
  int w2 = g.param("w2", Tensor::from({2, 1}, std::vector<float>{2, 3}));
  int h = g.add("Relu", {g.add("MatMul", {x, w1})});
  int y = g.add("MatMul", {h, w2}, {}, "y");
  g.set_input(x, Tensor::from({1, 2}, std::vector<float>{1, 2}));
  g.forward();
  test::check_values(g.value(y), {9});
  Gradients grads;
  backward(g, y, grads);
  test::check_values(grads.grad(w2), {3, 1});
  test::check_values(grads.grad(w1), {2, 3, 4, 6});
  // A second backward gives the same gradients: they are cleared, not accumulated across calls.
  backward(g, y, grads);
  test::check_values(grads.grad(w1), {2, 3, 4, 6});
}

TEST_CASE("the batch size may change between runs, and buffers are reused") {
  Graph g;
  int x = g.input("x", {{kBatch, 2}});
  int w = g.param("w", Tensor::from({2, 1}, std::vector<float>{1, 1}));
  int y = g.add("MatMul", {x, w});
  g.set_input(x, Tensor::from({3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  g.forward();
  test::check_values(g.value(y), {3, 7, 11});
  g.set_input(x, Tensor::from({1, 2}, std::vector<float>{1, 1}));
  g.forward();
  test::check_values(g.value(y), {2});
}

TEST_CASE("whole-graph gradient check") {
  Graph g;
  int x = g.input("x", {{kBatch, 3}});
  int w1 = g.param("w1", Tensor::from({3, 4}, std::vector<float>{.1f, -.2f, .3f, .4f, .5f, -.6f, .7f, .8f, -.9f, .1f, .2f, .3f}));
  int w2 = g.param("w2", Tensor::from({4, 2}, std::vector<float>{.3f, -.1f, .2f, .5f, -.4f, .6f, .1f, .2f}));
  int h = g.add("Tanh", {g.add("MatMul", {x, w1})});
  int y = g.add("Sigmoid", {g.add("MatMul", {h, w2})});
  int loss = g.add("MatMul", {g.add("MatMul", {y, y}, {{"transpose_a", true}}), g.param("ones", Tensor::from({2, 1}, std::vector<float>{1, 1}), false)}, {{"transpose_a", true}});
  // loss is [1, ...]: reduce to a scalar with a ones vector.
  int scalar = g.add("MatMul", {g.param("one", Tensor::from({2, 1}, std::vector<float>{1, 0}), false), loss}, {{"transpose_a", true}});
  g.set_input(x, Tensor::from({2, 3}, std::vector<float>{.5f, -1, .25f, 1, .3f, -.7f}));
  g.set_input_needs_grad(x, true);
  auto r = check_graph(g, scalar, {w1, w2, x});
  INFO(r.failure);
  CHECK(r.ok);
  CHECK(r.checked == 12 + 8 + 6);
}

TEST_CASE("a value read by several ops, or twice by one, gets the sum of its gradients") {
  // x = [3, 4], w = [[1], [2]]. loss = sum(x·w) + sum(x ⊙ x) = 11 + 25 = 36.
  // d/dx: from x·w, wᵀ = [1, 2]; from x ⊙ x (x read twice by Mul), 2x = [6, 8]; total [7, 10].
  // d/dw = xᵀ = [3, 4]. MatMul writes its gradients fresh; Mul reads x twice, so x is zeroed and
  // both of Mul's contributions are added.
  Graph g;
  int x = g.input("x", {{1, 2}});
  int w = g.param("w", Tensor::from({2, 1}, std::vector<float>{1, 2}));
  int r1 = g.add("ReduceSum", {g.add("MatMul", {x, w})});
  int r2 = g.add("ReduceSum", {g.add("Mul", {x, x})});
  int loss = g.add("Add", {r1, r2}, {}, "loss");
  g.set_input(x, Tensor::from({1, 2}, std::vector<float>{3, 4}));
  g.set_input_needs_grad(x, true);
  g.forward();
  test::check_values(g.value(loss), {36});
  for (int pass = 0; pass < 2; ++pass) {  // the second pass finds the first one's values in the buffers
    Gradients grads;
    backward(g, loss, grads);
    test::check_values(grads.grad(x), {7, 10});
    test::check_values(grads.grad(w), {3, 4});
  }
}

TEST_CASE("an embedding table's gradient is sparse: sorted unique rows, zero elsewhere") {
  // table [5, 2]; ids [3, 1, 3, 0]; loss = sum of the gathered rows. Row r's gradient is
  // [n_r, n_r] where n_r counts r in ids: rows 0 and 1 once, row 3 twice.
  Graph g;
  int table = g.param("table", Tensor::zeros({5, 2}));
  int ids = g.input("ids", {{kBatch}, DType::i32});
  int loss = g.add("ReduceSum", {g.add("Embedding", {table, ids})}, {}, "loss");
  g.set_input(ids, Tensor::from_ids({4}, std::vector<int32_t>{3, 1, 3, 0}));
  g.forward();
  Gradients grads;
  backward(g, loss, grads);
  REQUIRE(grads.sparse(table));
  CHECK(grads.rows(table) == std::vector<int32_t>{0, 1, 3});
  test::check_values(grads.grad(table), {1, 1, 1, 1, 0, 0, 2, 2, 0, 0});
  // Next batch: ids [4, 4, 2, 2] touch rows 2 and 4 (twice each); last batch's rows are cleared.
  g.set_input(ids, Tensor::from_ids({4}, std::vector<int32_t>{4, 4, 2, 2}));
  g.forward();
  backward(g, loss, grads);
  CHECK(grads.rows(table) == std::vector<int32_t>{2, 4});
  test::check_values(grads.grad(table), {0, 0, 0, 0, 2, 2, 0, 0, 2, 2});
}

TEST_CASE("optional inputs by name: absent ones are null for the op, errors name the inputs") {
  // SoftmaxCrossEntropy declares logits, labels, weights?, correction?, candidate_ids?.
  Graph g;
  int logits = g.input("logits", {{kBatch, 4}});
  int labels = g.input("labels", {{kBatch}, DType::i32});
  int corr = g.input("corr", {{4}});
  int weights = g.input("weights", {{kBatch}});
  int ce = g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}, {"labels", labels}, {"correction", corr}}, {}, "ce");
  const Node& n = g.node(ce);
  CHECK(n.inputs == std::vector<int>{logits, labels, corr});       // the inputs given
  CHECK(n.slots == std::vector<int>{0, 1, -1, 2, -1});               // per declared input
  g.set_input(logits, Tensor::zeros({2, 4}));
  g.set_input(labels, Tensor::from_ids({2}, std::vector<int32_t>{0, 3}));
  g.set_input(corr, Tensor::zeros({4}));
  Inputs in;
  g.forward(std::span<const int>(&ce, 1));
  g.op_inputs(ce, in);
  REQUIRE(in.size() == 5);
  CHECK(in[2] == nullptr);
  CHECK(in[3] == &g.value(corr));
  CHECK(in[4] == nullptr);
  CHECK(g.value(ce).f32()[0] == doctest::Approx(std::log(4.0f)));
  // Positionally, the trailing optional inputs may be left out.
  int ce2 = g.add("SoftmaxCrossEntropy", {logits, labels, weights}, {}, "ce2");
  CHECK(g.node(ce2).slots == std::vector<int>{0, 1, 2, -1, -1});
  CHECK_THROWS_WITH_AS(g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}}, {}, "no_labels"),
                       doctest::Contains("input 'labels' is required (inputs: logits, labels, weights (optional)"),
                       UserError);
  CHECK_THROWS_WITH_AS(g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}, {"labels", labels}, {"weight", weights}}, {}, "typo"),
                       doctest::Contains("no input named 'weight'"), UserError);
  CHECK_THROWS_WITH_AS(g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}, {"labels", labels}, {"labels", labels}}, {}, "twice"),
                       doctest::Contains("input 'labels' is given twice"), UserError);
  CHECK_THROWS_WITH_AS(g.add("Relu", NamedInputs{{"x", logits}}, {}, "relu"),
                       doctest::Contains("takes its inputs by position"), UserError);
  // A shape error still names the node and the inputs given.
  int bad = g.input("bad_corr", {{3}});
  CHECK_THROWS_WITH_AS(g.add("SoftmaxCrossEntropy", NamedInputs{{"logits", logits}, {"labels", labels}, {"correction", bad}}, {}, "ce3"),
                       doctest::Contains("node 'ce3' (SoftmaxCrossEntropy): correction [3] must have one value per column"),
                       UserError);
}

TEST_CASE("graph versions change with the structure and differ between graphs") {
  Graph a, b;
  CHECK(a.version() != b.version());
  const uint64_t v = a.version();
  int x = a.input("x", {{kBatch, 2}});
  CHECK(a.version() != v);
  const uint64_t v2 = a.version();
  a.set_input_needs_grad(x, true);
  CHECK(a.version() != v2);
}
