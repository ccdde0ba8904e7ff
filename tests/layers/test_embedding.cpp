// layers/embedding.cpp: the table size from the feeding lookup's vocabulary, Keras's uniform
// [-0.05, 0.05] initialiser, lookups and sparse row gradients by hand, and errors for bad configs.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "graph/row_shard.hpp"
#include "models/model_test_util.hpp"
#include "models/optimizers/optimizer.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// users "b", "a", "c", "a": StringLookup's sorted vocabulary [a, b, c] gives a=1, b=2, c=3 and the
// out-of-vocabulary id 0, so 4 ids.
Table users() {
  Table t("interactions");
  t.add("user", StringColumn{"b", "a", "c", "a"});
  t.add("x", FloatColumn{1, 2, 3, 4});
  return t;
}

std::string embedding_model(const std::string& embedding_keys, const std::string& input = "user_index") {
  return "name: embedding_test\n"
         "inputs: {user: string, x: float}\n"
         "layers:\n"
         "  user_index: {type: StringLookup, input: user}\n"
         "  e: {type: Embedding, input: " + input + ", " + embedding_keys + "}\n"
         "task: {type: Retrieval, query: e, candidate: e}\n";
}

Table lookup(const StringColumn& names) {
  Table t("query");
  t.add("user", names);
  return t;
}

}  // namespace

TEST_CASE("Embedding sizes its table from the StringLookup feeding it and looks rows up by id") {
  auto m = test::build_model(embedding_model("output_dim: 2"), test::tables_of(users()));
  Graph& g = m->graph();
  int table = g.find("e/embeddings");
  REQUIRE(table >= 0);
  CHECK(g.node(table).type.shape == Shape{4, 2});  // 3 words + the OOV id
  test::set_param(*m, "e/embeddings", {0, 0,    // id 0: out of vocabulary
                                       1, 2,    // a
                                       3, 4,    // b
                                       5, 6});  // c
  // "b" -> 2 -> [3, 4]; "a" -> 1 -> [1, 2]; "zz" (unknown) -> 0 -> [0, 0]; "c" -> 3 -> [5, 6]
  Tensor e = test::forward(*m, lookup({"b", "a", "zz", "c"}), "e");
  CHECK(e.shape() == Shape{4, 2});
  check_values(test::values_of(e), {3, 4, 1, 2, 0, 0, 5, 6});
}

TEST_CASE("Embedding's gradient is sparse: only the rows looked up, repeated ids summed") {
  auto m = test::build_model(embedding_model("output_dim: 2"), test::tables_of(users()));
  Graph& g = m->graph();
  test::forward(*m, lookup({"b", "a", "a"}), "e");  // ids 2, 1, 1
  Tensor seed = Tensor::from({3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Gradients grads;
  backward(g, m->value("e"), grads, &seed);
  int table = g.id("e/embeddings");
  REQUIRE(grads.sparse(table));
  CHECK(grads.rows(table) == std::vector<int32_t>{1, 2});
  // row 1 ("a", twice): [3, 4] + [5, 6] = [8, 10]; row 2 ("b"): [1, 2]
  const float* d = grads.grad(table).f32();
  check_values({d[2], d[3], d[4], d[5]}, {8, 10, 1, 2});
}

TEST_CASE("Embedding initialises uniformly in [-0.05, 0.05] from the seed") {
  auto m = test::build_model(embedding_model("output_dim: 50"), test::tables_of(users()), 3);
  auto v = test::param(*m, "e/embeddings");
  REQUIRE(v.size() == 200);
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  CHECK(*lo >= -0.05f);
  CHECK(*hi <= 0.05f);
  CHECK(*lo < -0.045f);  // 200 draws come within 10% of both ends
  CHECK(*hi > 0.045f);
  auto again = test::build_model(embedding_model("output_dim: 50"), test::tables_of(users()), 3);
  CHECK(test::param(*again, "e/embeddings") == v);
  auto other = test::build_model(embedding_model("output_dim: 50"), test::tables_of(users()), 4);
  CHECK(test::param(*other, "e/embeddings") != v);
}

TEST_CASE("Embedding takes an input_dim at least the lookup's id range") {
  auto m = test::build_model(embedding_model("output_dim: 2, input_dim: 10"), test::tables_of(users()));
  CHECK(m->graph().node(m->graph().id("e/embeddings")).type.shape == Shape{10, 2});

  std::string e = test::user_error([] { test::build_model(embedding_model("output_dim: 2, input_dim: 3"), test::tables_of(users())); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "input_dim 3 is smaller than the 4 ids its input can hold"));
}

TEST_CASE("Embedding over a float column is an error naming the layer and the input") {
  std::string e = test::user_error([] { test::build_model(embedding_model("output_dim: 2", "x"), test::tables_of(users())); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "layer 'e': Embedding needs integer ids, 'x' holds floats"));
  e = test::user_error([] { test::build_model(embedding_model("output_dim: 0"), test::tables_of(users())); });
  CHECK(test::contains(e, "output_dim"));
  CHECK(test::contains(e, "> 0"));
}

TEST_CASE("Embedding after Discretization has one row per bucket") {
  // 2 boundaries -> 3 buckets.
  Table t("interactions");
  t.add("ts", IntColumn{0, 10, 20});
  const std::string yaml = "name: buckets\n"
                           "inputs: {ts: int}\n"
                           "layers:\n"
                           "  bucket: {type: Discretization, input: ts, num_boundaries: 2}\n"
                           "  e: {type: Embedding, input: bucket, output_dim: 1}\n"
                           "task: {type: Retrieval, query: e, candidate: e}\n";
  auto m = test::build_model(yaml, test::tables_of(t));
  CHECK(m->graph().node(m->graph().id("e/embeddings")).type.shape == Shape{3, 1});
  test::set_param(*m, "e/embeddings", {10, 20, 30});
  // boundaries linspace(0, 20, 2) = [0, 20]: 0 -> bucket 1 (a value on a boundary goes up),
  // 10 -> 1, 20 -> 2, -5 -> 0
  Table q("query");
  q.add("ts", IntColumn{0, 10, 20, -5});
  check_values(test::values_of(test::forward(*m, q, "e")), {20, 20, 30, 10});
}

namespace {

// A world of `size` ranks seen from rank `rank`, for building models as that rank would (no
// collective call is made while a model is built).
class FakeWorld : public Collective {
 public:
  FakeWorld(int rank, int size) : rank_(rank), size_(size) { set_world(this); }
  ~FakeWorld() override { set_world(nullptr); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<int64_t> allgather(int64_t) override { throw std::logic_error("no collective in this test"); }
  void allgatherv(const void*, void*, std::span<const int64_t>) override { throw std::logic_error("no collective"); }
  void gatherv(const void*, void*, std::span<const int64_t>, int) override { throw std::logic_error("no collective"); }
  void allreduce_sum(std::span<float>) override { throw std::logic_error("no collective"); }
  void allreduce_sum(std::span<double>) override { throw std::logic_error("no collective"); }
  int64_t allreduce_max(int64_t) override { throw std::logic_error("no collective"); }
  void reduce_scatter_sum(const float*, float*, std::span<const int64_t>) override { throw std::logic_error("no collective"); }
  void broadcast(void*, int64_t, int) override { throw std::logic_error("no collective"); }
  void alltoallv(const void*, std::span<const int64_t>, void*, std::span<const int64_t>) override {
    throw std::logic_error("no collective");
  }
  std::vector<int64_t> alltoall_counts(std::span<const int64_t>) override { throw std::logic_error("no collective"); }
  void barrier() override {}

 private:
  int rank_, size_;
};

}  // namespace

TEST_CASE("sharded: each rank allocates its rows only, holding the whole table's values; one process: the whole table") {
  // 7 rows x 3 over 2 ranks: rank 0 holds rows 0, 2, 4, 6, rank 1 rows 1, 3, 5.
  const std::string yaml = embedding_model("output_dim: 3, input_dim: 7, sharded: true");
  auto whole = test::build_model(yaml, test::tables_of(users()), 5);  // no world: the switch does nothing
  const int wid = whole->graph().id("e/embeddings");
  CHECK(whole->graph().node(wid).type.shape == Shape{7, 3});
  CHECK(whole->graph().node(whole->value("e")).op_name == "Embedding");
  CHECK(!row_shard(whole->graph(), wid));
  const std::vector<float> all = test::param(*whole, "e/embeddings");
  const std::vector<float> unsharded = test::param(*test::build_model(embedding_model("output_dim: 3, input_dim: 7"), test::tables_of(users()), 5), "e/embeddings");
  CHECK(all == unsharded);
  for (int rank : {0, 1}) {
    FakeWorld w(rank, 2);
    auto m = test::build_model(yaml, test::tables_of(users()), 5);
    Graph& g = m->graph();
    const int id = g.id("e/embeddings");
    const int64_t rows = rank == 0 ? 4 : 3;
    // Exactly its rows are allocated: 4 x 3 or 3 x 3 floats.
    CHECK(g.node(id).type.shape == Shape{rows, 3});
    CHECK(g.param_value(id).size() * 4 == rows * 3 * 4);
    CHECK(g.node(m->value("e")).op_name == "ShardedEmbedding");
    auto s = row_shard(g, id);
    REQUIRE(s);
    CHECK(s->rows == 7);
    CHECK(s->local_rows() == rows);
    // Local row i is global row 2i + rank, with the whole table's values (the same draws).
    const std::vector<float> mine = test::param(*m, "e/embeddings");
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < 3; ++c) CHECK(mine[static_cast<size_t>(i * 3 + c)] == all[static_cast<size_t>((2 * i + rank) * 3 + c)]);
    CHECK(take_row_shard(Tensor::from({7, 3}, all), *s).values().size() == mine.size());
    // The optimizer's state for it is the shard's size too.
    auto opt = OptimizerRegistry::instance().make("Adam", {});
    for (const auto& [name, t] : opt->state(g))
      if (name.rfind("e/embeddings/", 0) == 0) {
        CHECK(t->shape() == Shape{rows, 3});
        CHECK(row_shard_of_state(g, name));
      }
  }
}

TEST_CASE("sharded: a table with fewer rows than ranks is refused naming the layer") {
  FakeWorld w(0, 5);
  std::string e = test::user_error([] { test::build_model(embedding_model("output_dim: 2, sharded: true"), test::tables_of(users())); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "layer 'e': a table of 4 rows cannot be sharded over 5 ranks"));
}
