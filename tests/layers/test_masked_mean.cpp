// layers/masked_mean.cpp: over an Embedding of its mask's ids the layer builds one EmbeddingMean
// on the table; over anything else, MaskedMean.
#include <doctest/doctest.h>

#include "models/model.hpp"

using namespace dagrad;

namespace {

std::unique_ptr<Model> build(const std::string& candidate_layers) {
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
  auto m = build("  candidate: {type: MaskedMean, input: token_embedding, mask: tokens}\n");
  const Graph& g = m->graph();
  const Node& c = g.node(m->value("candidate"));
  CHECK(c.op_name == "EmbeddingMean");
  REQUIRE(c.inputs.size() == 2);
  CHECK(g.node(c.inputs[0]).name == "token_embedding/embeddings");
  CHECK(g.node(c.inputs[1]).name == "tokens");
}

TEST_CASE("MaskedMean over anything else stays MaskedMean") {
  // The token vectors pass through Relu first: no table to read from.
  auto m = build("  token_relu: {type: Relu, input: token_embedding}\n"
                 "  candidate: {type: MaskedMean, input: token_relu, mask: tokens}\n");
  CHECK(m->graph().node(m->value("candidate")).op_name == "MaskedMean");
}
