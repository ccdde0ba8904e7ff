// layers/masked_mean.cpp: the mean of token vectors over the tokens of each text, padding (id 0)
// excluded, after TextVectorization and Embedding, as the MovieLens title tower uses it. Over an
// Embedding of its mask's ids the layer builds one EmbeddingMean on the table; over anything else, MaskedMean.
#include <doctest/doctest.h>

#include "models/model.hpp"
#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// vocabulary [red, blue]: padding 0, out-of-vocabulary 1, red 2, blue 3 -> a table of 4 rows.
const char* kMaskedModel = "name: masked_mean_test\n"
                     "inputs: {title: string}\n"
                     "layers:\n"
                     "  tokens: {type: TextVectorization, input: title, vocabulary: [red, blue]}\n"
                     "  token_vec: {type: Embedding, input: tokens, output_dim: 2, mask_zero: true}\n"
                     "  text: {type: MaskedMean, input: token_vec, mask: tokens}\n"
                     "task: {type: Retrieval, query: text, candidate: text}\n";

Table titles(const StringColumn& s) {
  Table t("interactions");
  t.add("title", s);
  return t;
}

}  // namespace

TEST_CASE("MaskedMean averages each text's token vectors, padding excluded, and splits the gradient back") {
  Table t = titles({"Red blue", "blue", "red, green red", ""});
  auto m = test::build_model(kMaskedModel, test::tables_of(t));
  Graph& g = m->graph();
  CHECK(g.node(g.id("token_vec/embeddings")).type.shape == Shape{4, 2});
  CHECK(g.node(m->value("text")).type.shape == Shape{kBatch, 2});
  test::set_param(*m, "token_vec/embeddings", {100, 100,  // 0: padding (must not count)
                                               1, 1,      // 1: out of vocabulary
                                               2, 0,      // 2: red
                                               0, 4});    // 3: blue
  // ids, padded to the longest text (3 tokens): [2, 3, 0], [3, 0, 0], [2, 1, 2], [0, 0, 0]
  // row 1: ([2, 0] + [0, 4]) / 2 = [1, 2]
  // row 2: [0, 4]
  // row 3: ([2, 0] + [1, 1] + [2, 0]) / 3 = [5/3, 1/3]
  // row 4: no token: zeros (Keras would give NaN)
  check_values(test::values_of(test::forward(*m, t, "text")), {1, 2, 0, 4, 5.0f / 3, 1.0f / 3, 0, 0});

  // dout = [[1, 1], [1, 1], [3, 3], [9, 9]]: each token of row r gets dout[r] / tokens in r.
  // red (2):  row 1 gives 1/2, row 3 twice 3/3 -> 0.5 + 2 = 2.5
  // blue (3): row 1 gives 1/2, row 2 gives 1   -> 1.5
  // OOV (1):  row 3 gives 3/3                  -> 1
  // padding (0): nothing
  Tensor seed = Tensor::from({4, 2}, std::vector<float>{1, 1, 1, 1, 3, 3, 9, 9});
  Gradients grads;
  backward(g, m->value("text"), grads, &seed);
  const Tensor& d = grads.grad(g.id("token_vec/embeddings"));
  for (int32_t r : grads.rows(g.id("token_vec/embeddings")))
    if (r == 0) check_values({d.f32()[0], d.f32()[1]}, {0, 0});
  check_values({d.f32()[2], d.f32()[3], d.f32()[4], d.f32()[5], d.f32()[6], d.f32()[7]}, {1, 1, 2.5f, 2.5f, 1.5f, 1.5f});
}

TEST_CASE("MaskedMean needs a token sequence and its ids") {
  Table t = titles({"red"});
  std::string yaml = test::replace_once(kMaskedModel, "mask: tokens", "mask: text");  // itself
  std::string e = test::user_error([&] { test::build_model(yaml, test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layers read each other in a circle: text -> text"));
  yaml = test::replace_once(kMaskedModel, "input: token_vec, mask", "input: tokens, mask");
  e = test::user_error([&] { test::build_model(yaml, test::tables_of(t)); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layer 'text'"));
  CHECK(test::contains(e, "MaskedMean"));
}

namespace {


std::unique_ptr<Model> build_two_towers(const std::string& candidate_layers) {
  const std::string yaml =
      "name: t\n"
      "inputs: {user: string, title: string}\n"
      "layers:\n"
      "  user_index: {type: StringLookup, input: user}\n"
      "  query: {type: Embedding, input: user_index, output_dim: 4}\n"
      "  tokens: {type: TextVectorization, input: title, max_tokens: 100}\n"
      "  token_embedding: {type: Embedding, input: tokens, output_dim: 4, mask_zero: true}\n" +
      candidate_layers + "task: {type: Retrieval, query: query, candidate: candidate}\n";
  DataTables data;
  data.interactions.add("user", StringColumn{"a", "b"});
  data.interactions.add("title", StringColumn{"red fox", "blue sky fox"});
  return Model::build(parse_config(yaml, "test.yaml"), &data, nullptr, 1);
}

}  // namespace

TEST_CASE("MaskedMean over an Embedding of its mask's ids becomes EmbeddingMean on the table") {
  auto m = build_two_towers("  candidate: {type: MaskedMean, input: token_embedding, mask: tokens}\n");
  const Graph& g = m->graph();
  const Node& c = g.node(m->value("candidate"));
  CHECK(c.op_name == "EmbeddingMean");
  REQUIRE(c.inputs.size() == 2);
  CHECK(g.node(c.inputs[0]).name == "token_embedding/embeddings");
  CHECK(g.node(c.inputs[1]).name == "tokens");
}

TEST_CASE("MaskedMean over anything else stays MaskedMean") {
  // The token vectors pass through Relu first: no table to read from.
  auto m = build_two_towers("  token_relu: {op: Relu, input: token_embedding}\n"
                 "  candidate: {type: MaskedMean, input: token_relu, mask: tokens}\n");
  CHECK(m->graph().node(m->value("candidate")).op_name == "MaskedMean");
}
