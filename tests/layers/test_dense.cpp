// layers/dense.cpp and the initialisers of layers/layer.cpp: forward values and gradients worked out
// by hand, parameter names after the layer, glorot_uniform bounds and seeds, zero bias, bad inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// x = [[1, 2], [-1, 0.5]]: two float columns joined into [B, 2].
Table dense_rows() {
  Table t("interactions");
  t.add("a", FloatColumn{1, -1});
  t.add("b", FloatColumn{2, 0.5});
  return t;
}

std::string dense_model(const std::string& dense_keys) {
  return "name: dense_test\n"
         "inputs: {a: float, b: float}\n"
         "layers:\n"
         "  x: {type: Concat, inputs: [a, b]}\n"
         "  y: {type: Dense, input: x, " + dense_keys + "}\n"
         "task: {type: Retrieval, query: y, candidate: y}\n";
}

}  // namespace

TEST_CASE("Dense computes relu(x·kernel + bias) and its gradients, by hand") {
  Table t = dense_rows();
  auto m = test::build_model(dense_model("units: 3, activation: relu"), test::tables_of(t));
  Graph& g = m->graph();
  // Parameters are named after the layer; nodes too.
  CHECK(g.find("y/kernel") >= 0);
  CHECK(g.find("y/bias") >= 0);
  CHECK(g.params().size() == 2);
  // One Dense op: product, bias and ReLU (ops/dense.cpp); the values below show the ReLU.
  CHECK(g.node(m->value("y")).name == "y/dense");
  CHECK(g.node(m->value("y")).op_name == "Dense");

  test::set_param(*m, "y/kernel", {1, -1, 0.5,  //
                                   0.5, 1, -2});
  test::set_param(*m, "y/bias", {0.1f, 0.2f, -0.3f});
  // row 1: x = [1, 2]:     [1·1 + 2·0.5, 1·-1 + 2·1, 1·0.5 + 2·-2] = [2, 1, -3.5]
  //        + bias = [2.1, 1.2, -3.8], relu -> [2.1, 1.2, 0]
  // row 2: x = [-1, 0.5]:  [-1 + 0.25, 1 + 0.5, -0.5 - 1] = [-0.75, 1.5, -1.5]
  //        + bias = [-0.65, 1.7, -1.8], relu -> [0, 1.7, 0]
  Tensor y = test::forward(*m, t, "y");
  CHECK(y.shape() == Shape{2, 3});
  check_values(test::values_of(y), {2.1f, 1.2f, 0, 0, 1.7f, 0});

  // dout = [[1, 2, 3], [4, 5, 6]]; relu passes where the pre-activation is positive:
  // dz = [[1, 2, 0], [0, 5, 0]].
  // dkernel = xᵀ·dz: row 0 = 1·[1, 2, 0] + -1·[0, 5, 0] = [1, -3, 0]
  //                  row 1 = 2·[1, 2, 0] + 0.5·[0, 5, 0] = [2, 6.5, 0]
  // dbias = column sums of dz = [1, 7, 0]
  Tensor seed = Tensor::from({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Gradients grads;
  backward(g, m->value("y"), grads, &seed);
  check_values(test::values_of(grads.grad(g.id("y/kernel"))), {1, -3, 0, 2, 6.5f, 0});
  check_values(test::values_of(grads.grad(g.id("y/bias"))), {1, 7, 0});
}

TEST_CASE("Dense without bias or activation is x·kernel") {
  Table t = dense_rows();
  auto m = test::build_model(dense_model("units: 1, use_bias: false"), test::tables_of(t));
  CHECK(m->graph().find("y/bias") < 0);
  CHECK(m->graph().params().size() == 1);
  test::set_param(*m, "y/kernel", {3, -2});
  // [1·3 + 2·-2, -1·3 + 0.5·-2] = [-1, -4]: negative values pass (linear).
  check_values(test::values_of(test::forward(*m, t, "y")), {-1, -4});
}

TEST_CASE("Dense initialises its kernel glorot_uniform from the seed and its bias with zeros") {
  // fan_in 20 (the embedding width), fan_out 30: limit = sqrt(6 / (20 + 30)) = 0.34641016.
  Table t("interactions");
  t.add("user", StringColumn{"a", "b"});
  const std::string yaml = "name: init\n"
                           "inputs: {user: string}\n"
                           "layers:\n"
                           "  user_index: {type: StringLookup, input: user}\n"
                           "  user_vec: {type: Embedding, input: user_index, output_dim: 20}\n"
                           "  y: {type: Dense, input: user_vec, units: 30}\n"
                           "task: {type: Retrieval, query: y, candidate: y}\n";
  auto m = test::build_model(yaml, test::tables_of(t), 7);
  const double limit = std::sqrt(6.0 / 50.0);
  auto k = test::param(*m, "y/kernel");
  REQUIRE(k.size() == 600);
  auto [lo, hi] = std::minmax_element(k.begin(), k.end());
  CHECK(*lo >= -limit);
  CHECK(*hi <= limit);
  // 600 uniform draws reach close to both ends, and their mean |v| is limit / 2 (its standard
  // error is limit / sqrt(12·600) = 0.012·limit).
  CHECK(*lo < -0.95 * limit);
  CHECK(*hi > 0.95 * limit);
  double mean_abs = 0;
  for (float v : k) mean_abs += std::fabs(v) / 600.0;
  CHECK(mean_abs == doctest::Approx(limit / 2).epsilon(0.1));
  for (float v : test::param(*m, "y/bias")) CHECK(v == 0.0f);

  // The same seed gives the same parameters; another seed other ones.
  auto again = test::build_model(yaml, test::tables_of(t), 7);
  CHECK(test::param(*again, "y/kernel") == k);
  CHECK(test::param(*again, "user_vec/embeddings") == test::param(*m, "user_vec/embeddings"));
  auto other = test::build_model(yaml, test::tables_of(t), 8);
  CHECK(test::param(*other, "y/kernel") != k);
}

TEST_CASE("Dense on a token sequence [B, T, D] is an error naming the layer, the file and the shape") {
  Table t("interactions");
  t.add("title", StringColumn{"a b", "c"});
  const std::string yaml = "name: bad\n"
                           "inputs: {title: string}\n"
                           "layers:\n"
                           "  tokens: {type: TextVectorization, input: title}\n"
                           "  token_vec: {type: Embedding, input: tokens, output_dim: 4}\n"
                           "  y: {type: Dense, input: token_vec, units: 3}\n"
                           "task: {type: Retrieval, query: y, candidate: y}\n";
  std::string e = test::user_error([&] { test::build_model(yaml, test::tables_of(t)); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layer 'y': Dense needs a [batch, features] input, got [B, T, 4]"));
}

TEST_CASE("Dense config errors name the key and what is allowed") {
  Table t = dense_rows();
  std::string e = test::user_error([&] { test::build_model(dense_model("units: 3, activation: softmax"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "softmax"));
  CHECK(test::contains(e, "relu"));
  e = test::user_error([&] { test::build_model(dense_model("activation: relu"), test::tables_of(t)); });
  CHECK(test::contains(e, "units"));
  e = test::user_error([&] { test::build_model(dense_model("units: 2, unit: 3"), test::tables_of(t)); });
  CHECK(test::contains(e, "unit"));
  CHECK(test::contains(e, "did you mean"));
}

TEST_CASE("Dense with an activation it does not fuse is a Dense op then the activation op") {
  Table t = dense_rows();
  auto m = test::build_model(dense_model("units: 3, activation: sigmoid"), test::tables_of(t));
  const Graph& g = m->graph();
  CHECK(g.node(g.id("y/dense")).op_name == "Dense");
  CHECK(g.node(m->value("y")).op_name == "Sigmoid");
}
