// layers/concat.cpp: values joined along the feature axis in the order listed, gradients split back.
#include <doctest/doctest.h>

#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("Concat joins a float column, an embedding and a normalized column, in the order listed") {
  Table t("interactions");
  t.add("user", StringColumn{"a", "b"});
  t.add("x", FloatColumn{7, -3});
  t.add("ts", IntColumn{10, 30});
  const std::string yaml = "name: concat_test\n"
                           "inputs: {user: string, x: float, ts: int}\n"
                           "layers:\n"
                           "  user_index: {type: StringLookup, input: user}\n"
                           "  user_vec: {type: Embedding, input: user_index, output_dim: 2}\n"
                           "  ts_norm: {type: Normalization, input: ts}\n"
                           "  features: {type: Concat, inputs: [x, user_vec, ts_norm]}\n"
                           "task: {type: Retrieval, query: features, candidate: features}\n";
  auto m = test::build_model(yaml, test::tables_of(t));
  Graph& g = m->graph();
  CHECK(g.node(m->value("features")).type.shape == Shape{kBatch, 4});
  CHECK(g.node(m->value("features")).name == "features");
  test::set_param(*m, "user_vec/embeddings", {0, 0, 1, 2, 3, 4});  // a -> [1, 2], b -> [3, 4]
  // ts: mean 20, variance ((10-20)² + (30-20)²) / 2 = 100, so (ts - 20) / 10 = -1, 1.
  // row 1: [7, 1, 2, -1]; row 2: [-3, 3, 4, 1]
  check_values(test::values_of(test::forward(*m, t, "features")), {7, 1, 2, -1, -3, 3, 4, 1});

  // The gradient of the embedding part goes back to the looked-up rows: columns 1..2 of dout.
  Tensor seed = Tensor::from({2, 4}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  Gradients grads;
  backward(g, m->value("features"), grads, &seed);
  int table = g.id("user_vec/embeddings");
  CHECK(grads.rows(table) == std::vector<int32_t>{1, 2});
  const float* d = grads.grad(table).f32();
  check_values({d[2], d[3], d[4], d[5]}, {2, 3, 6, 7});
}

TEST_CASE("Concat of a token sequence with a vector is an error naming the layer") {
  Table t("interactions");
  t.add("title", StringColumn{"a b", "c"});
  t.add("x", FloatColumn{1, 2});
  const std::string yaml = "name: bad\n"
                           "inputs: {title: string, x: float}\n"
                           "layers:\n"
                           "  tokens: {type: TextVectorization, input: title}\n"
                           "  token_vec: {type: Embedding, input: tokens, output_dim: 4}\n"
                           "  both: {type: Concat, inputs: [token_vec, x]}\n"
                           "task: {type: Retrieval, query: x, candidate: x}\n";
  std::string e = test::user_error([&] { test::build_model(yaml, test::tables_of(t)); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layer 'both'"));
  CHECK(test::contains(e, "Concat"));
  e = test::user_error([&] { test::build_model(test::replace_once(yaml, "[token_vec, x]", "[]"), test::tables_of(t)); });
  CHECK(test::contains(e, "at least one value name"));
}
