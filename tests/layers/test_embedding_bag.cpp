// layers/embedding_bag.cpp: a multi-valued column ("Comedy|Drama") split by TextVectorization on a
// separator and embedded as a bag: sum and mean worked out by hand, padding left out, the gradient
// to the looked-up rows, no [batch, tokens, d] node in the graph, the separator kept in a saved model,
// and errors naming the layer.
#include <doctest/doctest.h>

#include "models/model.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// vocabulary [drama, comedy]: padding 0, out of vocabulary 1, drama 2, comedy 3.
const char* kBagModel = "name: bag_test\n"
                     "inputs: {genres: string}\n"
                     "layers:\n"
                     "  genre_ids: {type: TextVectorization, input: genres, split: \"|\", vocabulary: [drama, comedy]}\n"
                     "  genre_vec: {type: EmbeddingBag, input: genre_ids, output_dim: 2, combiner: sum}\n"
                     "task: {type: Retrieval, query: genre_vec, candidate: genre_vec}\n";

Table genres(const StringColumn& s) {
  Table t("interactions");
  t.add("genres", s);
  return t;
}

const std::vector<float> kTable = {100, 100,  // 0: padding (never read)
                                   1, 1,      // 1: out of vocabulary
                                   2, 0,      // 2: drama
                                   0, 4};     // 3: comedy

}  // namespace

TEST_CASE("EmbeddingBag sums (or averages) the vectors of a multi-valued column's tokens") {
  Table t = genres({"Comedy|Drama", "Drama", "Drama|Film-Noir|Drama", ""});
  auto m = test::build_model(kBagModel, test::tables_of(t));
  Graph& g = m->graph();
  CHECK(g.node(g.id("genre_vec/embeddings")).type.shape == Shape{4, 2});
  CHECK(g.node(m->value("genre_vec")).type.shape == Shape{kBatch, 2});
  CHECK(g.node(m->value("genre_vec")).op_name == "EmbeddingSum");
  for (int i = 0; i < g.size(); ++i) CHECK(g.node(i).type.shape.size() <= 2);  // no [batch, tokens, d] node
  test::set_param(*m, "genre_vec/embeddings", kTable);
  // ids: [3, 2, 0], [2, 0, 0], [2, 1, 2], [0, 0, 0]
  // sums: [2, 4], [2, 0], [2, 0] + [1, 1] + [2, 0] = [5, 1], [0, 0]
  check_values(test::values_of(test::forward(*m, t, "genre_vec")), {2, 4, 2, 0, 5, 1, 0, 0});
  // Backward: each token of row r gets dout[r]. dout = [[1, 2], [3, 3], [5, 7], [9, 9]].
  // drama (2): rows 0, 1 and twice row 2: [1,2] + [3,3] + 2·[5,7] = [14, 19]; comedy (3): [1, 2];
  // OOV (1): [5, 7].
  Tensor seed = Tensor::from({4, 2}, std::vector<float>{1, 2, 3, 3, 5, 7, 9, 9});
  Gradients grads;
  backward(g, m->value("genre_vec"), grads, &seed);
  const int table = g.id("genre_vec/embeddings");
  const float* d = grads.grad(table).f32();
  check_values({d[2], d[3], d[4], d[5], d[6], d[7]}, {5, 7, 14, 19, 1, 2});

  auto mean = test::build_model(test::replace_once(kBagModel, "combiner: sum", "combiner: mean"), test::tables_of(t));
  CHECK(mean->graph().node(mean->value("genre_vec")).op_name == "EmbeddingMean");
  test::set_param(*mean, "genre_vec/embeddings", kTable);
  check_values(test::values_of(test::forward(*mean, t, "genre_vec")), {1, 2, 2, 0, 5.0f / 3, 1.0f / 3, 0, 0});
}

TEST_CASE("EmbeddingBag: a saved model keeps the separator and the standardisation") {
  Table t = genres({"Comedy|Drama", "Sci-Fi|Drama"});
  const std::string yaml = test::replace_once(test::replace_once(kBagModel, ", vocabulary: [drama, comedy]", ", standardize: none"),
                                              "combiner: sum", "combiner: mean");
  auto m = test::build_model(yaml, test::tables_of(t));  // adapted: Drama 2, then Sci-Fi, Comedy
  test::TempDir dir("embedding_bag");
  const std::string path = dir.file("bag.dagrad");
  m->save(path);
  auto loaded = Model::load(path);
  Table probe = genres({"Sci-Fi | Comedy", "drama|Drama", "Comedy"});
  Tensor a = test::forward(*m, probe, "genre_vec"), b = test::forward(*loaded, probe, "genre_vec");
  CHECK(test::values_of(b) == test::values_of(a));  // bit for bit
  // "drama" is not "Drama" under standardize: none: out of vocabulary, so row 1 is the mean of OOV
  // and Drama, not Drama alone.
  CHECK(test::values_of(a)[2] != test::values_of(test::forward(*m, genres({"Drama"}), "genre_vec"))[0]);
  CHECK(test::contains(loaded->summary(8), "split on \"|\", standardize none"));
}

TEST_CASE("EmbeddingBag errors name the layer and what was expected") {
  Table t = genres({"a|b"});
  t.add("x", FloatColumn{1});
  std::string e = test::user_error([&] {
    test::build_model("name: bad\ninputs: {genres: string, x: float}\nlayers:\n"
                      "  bag: {type: EmbeddingBag, input: x, output_dim: 2}\n"
                      "task: {type: Retrieval, query: bag, candidate: bag}\n",
                      test::tables_of(t));
  });
  CHECK(test::contains(e, "model.yaml:4:"));
  CHECK(test::contains(e, "EmbeddingBag needs integer ids [batch, tokens]"));
  e = test::user_error([&] { test::build_model(test::replace_once(kBagModel, "combiner: sum", "combiner: max"), test::tables_of(t)); });
  CHECK(test::contains(e, "combiner"));
  CHECK(test::contains(e, "mean, sum"));
  e = test::user_error([&] { test::build_model(test::replace_once(kBagModel, "split: \"|\"", "split: \"\""), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:4:"));
  CHECK(test::contains(e, "non-empty separator"));
}
