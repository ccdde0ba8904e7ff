// layers/mlp.cpp: a stack of Dense layers named dense_0, dense_1, ... under the layer, the
// activation between them and the last one linear; forward and gradients by hand.
#include <doctest/doctest.h>

#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

Table mlp_rows() {
  Table t("interactions");
  t.add("a", FloatColumn{1, -1});
  t.add("b", FloatColumn{2, 0.5});
  return t;
}

std::string mlp_model(const std::string& keys) {
  return "name: mlp_test\n"
         "inputs: {a: float, b: float}\n"
         "layers:\n"
         "  x: {type: Concat, inputs: [a, b]}\n"
         "  query: {type: MLP, input: x, " + keys + "}\n"
         "task: {type: Retrieval, query: query, candidate: query}\n";
}

}  // namespace

TEST_CASE("MLP [2, 1] is relu(x·K0 + b0)·K1 + b1 with parameters under query/dense_<i>/") {
  Table t = mlp_rows();
  auto m = test::build_model(mlp_model("units: [2, 1]"), test::tables_of(t));
  Graph& g = m->graph();
  for (const char* p : {"query/dense_0/kernel", "query/dense_0/bias", "query/dense_1/kernel", "query/dense_1/bias"})
    CHECK_MESSAGE(g.find(p) >= 0, p);
  CHECK(g.params().size() == 4);
  CHECK(g.node(g.id("query/dense_0/kernel")).type.shape == Shape{2, 2});
  CHECK(g.node(g.id("query/dense_1/kernel")).type.shape == Shape{2, 1});
  // Each layer one Dense op (the first with its ReLU fused: the values below show it, and that
  // the last is linear).
  CHECK(g.node(g.id("query/dense_0/dense")).op_name == "Dense");
  CHECK(g.node(m->value("query")).name == "query/dense_1/dense");

  test::set_param(*m, "query/dense_0/kernel", {1, -1,  //
                                               0.5, 1});
  test::set_param(*m, "query/dense_0/bias", {0, 0.5});
  test::set_param(*m, "query/dense_1/kernel", {2, -1});
  test::set_param(*m, "query/dense_1/bias", {0.25});
  // row 1: x = [1, 2]:    x·K0 = [1 + 1, -1 + 2] = [2, 1], + b0 = [2, 1.5], relu = [2, 1.5]
  //        h·K1 + b1 = 2·2 + 1.5·-1 + 0.25 = 2.75
  // row 2: x = [-1, 0.5]: x·K0 = [-1 + 0.25, 1 + 0.5] = [-0.75, 1.5], + b0 = [-0.75, 2], relu = [0, 2]
  //        h·K1 + b1 = 0 - 2 + 0.25 = -1.75 (negative: the last layer is linear)
  check_values(test::values_of(test::forward(*m, t, "query")), {2.75f, -1.75f});

  // dout = [1, 1]: dK1 = hᵀ·dout = [2 + 0, 1.5 + 2] = [2, 3.5], db1 = 2;
  // dh = dout·K1ᵀ = [[2, -1], [2, -1]], through relu (row 2's first unit is off): [[2, -1], [0, -1]]
  // dK0 = xᵀ·dh: row 0 = 1·[2, -1] + -1·[0, -1] = [2, 0]; row 1 = 2·[2, -1] + 0.5·[0, -1] = [4, -2.5]
  // db0 = [2, -2]
  Tensor seed = Tensor::from({2, 1}, std::vector<float>{1, 1});
  Gradients grads;
  backward(g, m->value("query"), grads, &seed);
  check_values(test::values_of(grads.grad(g.id("query/dense_1/kernel"))), {2, 3.5f});
  check_values(test::values_of(grads.grad(g.id("query/dense_1/bias"))), {2});
  check_values(test::values_of(grads.grad(g.id("query/dense_0/kernel"))), {2, 0, 4, -2.5f});
  check_values(test::values_of(grads.grad(g.id("query/dense_0/bias"))), {2, -2});
}

TEST_CASE("MLP takes the activation between its layers by name") {
  Table t = mlp_rows();
  auto m = test::build_model(mlp_model("units: [1, 1], activation: tanh, use_bias: false"), test::tables_of(t));
  CHECK(m->graph().params().size() == 2);
  CHECK(m->graph().find("query/dense_0/tanh") >= 0);
  test::set_param(*m, "query/dense_0/kernel", {1, 0});
  test::set_param(*m, "query/dense_1/kernel", {2});
  // 2·tanh(a): 2·tanh(1) = 1.5231883, 2·tanh(-1) = -1.5231883
  check_values(test::values_of(test::forward(*m, t, "query")), {1.5231883f, -1.5231883f});
}

TEST_CASE("MLP config errors") {
  Table t = mlp_rows();
  std::string e = test::user_error([&] { test::build_model(mlp_model("units: []"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "at least one layer size"));
  e = test::user_error([&] { test::build_model(mlp_model("units: [4, 0]"), test::tables_of(t)); });
  CHECK(test::contains(e, "> 0"));
  e = test::user_error([&] { test::build_model(mlp_model("units: [4], activation: gelu"), test::tables_of(t)); });
  CHECK(test::contains(e, "gelu"));
  CHECK(test::contains(e, "tanh"));
}
