// models/tasks/multi_task.cpp: the weighted sum of the tasks' losses and its gradients by hand,
// metrics named per task, a task of weight 0 evaluated but left out of the training graph, a
// Retrieval sub-task's state saved under its own name, and the configuration errors.
#include <doctest/doctest.h>

#include "models/io/archive.hpp"
#include "models/model.hpp"
#include "models/model_test_util.hpp"
#include "models/task.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// score = x·kernel + bias; with kernel 1 and bias 0 the score is x. Two rating tasks on labels y
// and z with weights 2 and 0.5 (written by the test as WA and WB).
std::string multi_task_model(const std::string& wa = "2", const std::string& wb = "0.5") {
  return "name: multi_test\n"
         "inputs: {x: float}\n"
         "layers:\n"
         "  score: {type: Dense, input: x, units: 1}\n"
         "task:\n"
         "  type: MultiTask\n"
         "  tasks:\n"
         "    a: {type: Ranking, prediction: score, label: y, weight: " + wa + "}\n"
         "    b: {type: Ranking, prediction: score, label: z, weight: " + wb + "}\n";
}

Table rows() {
  Table t("test");
  t.add("x", FloatColumn{1, 2, 3, 4});
  t.add("y", FloatColumn{1.5f, 2, 2, 5});  // errors x - y: -0.5, 0, 1, -1: MSE 0.5625, RMSE 0.75
  t.add("z", FloatColumn{1, 2, 3, 2});     // errors 0, 0, 0, 2: MSE 1, RMSE 1
  return t;
}

std::unique_ptr<Model> identity_model(const std::string& yaml, const Table& t) {
  auto m = test::build_model(yaml, test::tables_of(t));
  test::set_param(*m, "score/kernel", {1});
  test::set_param(*m, "score/bias", {0});
  return m;
}

}  // namespace

TEST_CASE("MultiTask trains on the weighted sum of its tasks' losses and reports each task's metrics") {
  Table t = rows();
  auto m = identity_model(multi_task_model(), t);
  CHECK(m->task().describe() ==
        "MultiTask (a, weight 2: Ranking (mean_squared_error against column y); "
        "b, weight 0.5: Ranking (mean_squared_error against column z))");
  CHECK(m->task().columns() == std::vector<std::string>{"y", "z"});
  CHECK(m->task().retrieval() == nullptr);
  // 2·0.5625 + 0.5·1 = 1.625
  CHECK(test::task_loss(*m, t, {0, 1, 2, 3}) == doctest::Approx(1.625));
  // dkernel: a: mean(2·err·x) = 2·(-0.5 + 0 + 3 - 4)/4 = -0.75; b: 2·(2·4)/4 = 4.
  //   2·(-0.75) + 0.5·4 = 0.5. dbias: a: 2·(-0.5)/4 = -0.25; b: 2·2/4 = 1. 2·(-0.25) + 0.5·1 = 0.
  Graph& g = m->graph();
  Gradients grads;
  backward(g, m->task().loss(), grads);
  check_values(test::values_of(grads.grad(g.id("score/kernel"))), {0.5f});
  check_values(test::values_of(grads.grad(g.id("score/bias"))), {0.0f});
  // Each task's nodes are named under task/<name>/.
  CHECK(g.find("task/a/label") >= 0);
  CHECK(g.find("task/b/label") >= 0);
  CHECK(g.node(m->task().loss()).name == "task/loss");

  Metrics r = m->task().evaluate(*m, t, DataTables{}, 3);
  std::vector<std::string> names;
  for (const auto& [k, v] : r) names.push_back(k);
  CHECK(names == std::vector<std::string>{"loss", "a/loss", "a/rmse", "b/loss", "b/rmse"});
  CHECK(r[0].second == doctest::Approx(1.625));
  CHECK(r[2].second == doctest::Approx(0.75));
  CHECK(r[4].second == doctest::Approx(1.0));
}

TEST_CASE("MultiTask: a task of weight 0 is evaluated but not part of the training loss") {
  Table t = rows();
  auto m = identity_model(multi_task_model("1", "0"), t);
  CHECK(test::task_loss(*m, t, {0, 1, 2, 3}) == doctest::Approx(0.5625));
  const Node& loss = m->graph().node(m->task().loss());
  CHECK(loss.op_name == "WeightedSum");
  REQUIRE(loss.inputs.size() == 1);  // task b's loss is not computed while training
  CHECK(m->graph().node(loss.inputs[0]).name == "task/a/loss");
  Metrics r = m->task().evaluate(*m, t, DataTables{}, 4);
  REQUIRE(r.size() == 5);
  CHECK(r[0].second == doctest::Approx(0.5625));  // 1·0.5625 + 0·1
  CHECK(r[4].first == "b/rmse");
  CHECK(r[4].second == doctest::Approx(1.0));
}

TEST_CASE("MultiTask: a Retrieval sub-task serves, and its streaming state is saved under its name") {
  Table t("interactions");
  t.add("user", StringColumn{"u1", "u2", "u1", "u3"});
  t.add("item", IntColumn{7, 8, 7, 9});
  t.add("rating", FloatColumn{4, 3, 5, 1});
  const std::string yaml = "name: rr\n"
                           "inputs: {user: string, item: int}\n"
                           "layers:\n"
                           "  u: {type: StringLookup, input: user}\n"
                           "  uv: {type: Embedding, input: u, output_dim: 3}\n"
                           "  i: {type: IntegerLookup, input: item}\n"
                           "  iv: {type: Embedding, input: i, output_dim: 3}\n"
                           "  both: {type: Concat, inputs: [uv, iv]}\n"
                           "  rating_pred: {type: Dense, input: both, units: 1}\n"
                           "task:\n"
                           "  type: MultiTask\n"
                           "  tasks:\n"
                           "    rating: {type: Ranking, prediction: rating_pred, label: rating}\n"
                           "    retrieval: {type: Retrieval, query: uv, candidate: iv, candidate_id: item,\n"
                           "                sampling_correction: {type: streaming, buckets: 64}}\n";
  auto m = test::build_model(yaml, test::tables_of(t));
  RetrievalTask* r = m->task().retrieval();
  REQUIRE(r != nullptr);
  CHECK(r->candidate_id_column() == "item");
  CHECK(m->graph().node(r->query_node()).name == "uv");
  test::task_loss(*m, t, {0, 1, 2, 3}, true);  // one training batch updates the estimator
  test::TempDir dir("multi_task");
  const std::string path = dir.file("m.dagrad");
  m->save(path);
  ArchiveReader a(path);
  CHECK(a.has("task/retrieval/frequency/step"));
  CHECK(a.integer("task/retrieval/frequency/step") == 1);
  auto loaded = Model::load(path);
  CHECK(loaded->task().describe() == m->task().describe());
}

TEST_CASE("MultiTask configuration errors name the place and what was expected") {
  Table t = rows();
  auto error = [&](const std::string& yaml) { return test::user_error([&] { test::build_model(yaml, test::tables_of(t)); }); };
  std::string e = error(multi_task_model("0", "0"));
  CHECK(test::contains(e, "model.yaml:8:5: task.tasks: every task has weight 0"));
  e = error(multi_task_model("-1"));
  CHECK(test::contains(e, "model.yaml:8:"));
  CHECK(test::contains(e, "weight"));
  e = error(test::replace_once(multi_task_model(), "label: y, weight", "lable: y, weight"));
  CHECK(test::contains(e, "model.yaml:8:"));
  CHECK(test::contains(e, "did you mean 'label'"));
  e = error(test::replace_once(multi_task_model(), "    a: {type: Ranking", "    a b: {type: Ranking"));
  CHECK(test::contains(e, "task name 'a b'"));
  e = error(test::replace_once(multi_task_model(), "{type: Ranking, prediction: score, label: y, weight: 2}",
                               "{type: MultiTask, tasks: {c: {type: Ranking, prediction: score, label: y}}}"));
  CHECK(test::contains(e, "cannot contain another MultiTask"));
  e = error(test::replace_once(multi_task_model(), "{type: Ranking, prediction: score, label: y, weight: 2}", "{type: Rankin}"));
  CHECK(test::contains(e, "did you mean 'Ranking'"));
  e = error("name: x\ninputs: {x: float}\nlayers:\n  s: {type: Dense, input: x, units: 1}\ntask: {type: MultiTask, tasks: []}\n");
  CHECK(test::contains(e, "tasks must be a map"));
}
