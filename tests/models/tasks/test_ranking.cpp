// models/tasks/ranking.cpp: mean squared error and binary cross-entropy losses (the mean over the
// batch), their gradients, and RMSE / AUC through evaluate(), all by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// prediction = x·kernel + bias; with kernel 1 and bias 0 the prediction is x itself.
std::string ranking_model(const std::string& loss) {
  return "name: ranking_test\n"
         "inputs: {x: float}\n"
         "layers:\n"
         "  score: {type: Dense, input: x, units: 1}\n"
         "task: {type: Ranking, prediction: score, label: y" + loss + "}\n";
}

Table ranking_rows(const FloatColumn& x, const Column& y) {
  Table t("test");
  t.add("x", x);
  t.add("y", y);
  return t;
}

std::unique_ptr<Model> ranking_identity_model(const std::string& loss, const Table& t) {
  auto m = test::build_model(ranking_model(loss), test::tables_of(t));
  test::set_param(*m, "score/kernel", {1});
  test::set_param(*m, "score/bias", {0});
  return m;
}

}  // namespace

TEST_CASE("Ranking with mean squared error: loss, gradients, and RMSE by hand") {
  // predictions [1, 2, 3, 4], labels [1.5, 2, 2, 5]: errors [-0.5, 0, 1, -1], squares
  // [0.25, 0, 1, 1], mean 0.5625; RMSE sqrt(0.5625) = 0.75
  Table t = ranking_rows({1, 2, 3, 4}, FloatColumn{1.5f, 2, 2, 5});
  auto m = ranking_identity_model("", t);
  CHECK(m->task().describe() == "Ranking (mean_squared_error against column y)");
  CHECK(test::task_loss(*m, t, {0, 1, 2, 3}) == doctest::Approx(0.5625));
  // dkernel = mean(2·err·x) = 2·(-0.5·1 + 0 + 1·3 - 1·4) / 4 = -0.75; dbias = 2·(-0.5) / 4 = -0.25
  Graph& g = m->graph();
  Gradients grads;
  backward(g, m->task().loss(), grads);
  check_values(test::values_of(grads.grad(g.id("score/kernel"))), {-0.75f});
  check_values(test::values_of(grads.grad(g.id("score/bias"))), {-0.25f});

  Metrics r = m->task().evaluate(*m, t, DataTables{}, 4);
  REQUIRE(r.size() == 2);
  CHECK(r[0].first == "loss");
  CHECK(r[0].second == doctest::Approx(0.5625));
  CHECK(r[1].first == "rmse");
  CHECK(r[1].second == doctest::Approx(0.75));
  // Batches of 3 and 1: (3·(0.25 + 0 + 1)/3 + 1·1) / 4 = 0.5625; RMSE over every example alike.
  r = m->task().evaluate(*m, t, DataTables{}, 3);
  CHECK(r[0].second == doctest::Approx(0.5625));
  CHECK(r[1].second == doctest::Approx(0.75));
  // An int label column is read as floats.
  Table ints = ranking_rows({1, 2, 3, 4}, IntColumn{1, 2, 2, 5});
  // errors [0, 0, 1, -1]: mean square 0.5, RMSE 0.70710678
  r = m->task().evaluate(*m, ints, DataTables{}, 4);
  CHECK(r[0].second == doctest::Approx(0.5));
  CHECK(r[1].second == doctest::Approx(0.70710678));
}

TEST_CASE("Ranking with binary cross-entropy on logits: loss, gradients, and AUC by hand") {
  // logits [2, -1, 0, 1], labels [1, 0, 1, 0]; per example softplus(z) - y·z:
  //   ln(1 + e⁻²) = 0.12692801, ln(1 + e⁻¹) = 0.31326169, ln 2 = 0.69314718, ln(1 + e) = 1.31326169
  //   mean 0.61164964
  Table t = ranking_rows({2, -1, 0, 1}, FloatColumn{1, 0, 1, 0});
  auto m = ranking_identity_model(", loss: binary_crossentropy", t);
  CHECK(test::task_loss(*m, t, {0, 1, 2, 3}) == doctest::Approx(0.61164964));
  // dlogit = (sigmoid(z) - y) / 4: sigmoid = [0.88079708, 0.26894142, 0.5, 0.73105858]
  //   dkernel = Σ dlogit·z = (-0.11920292·2 + 0.26894142·-1 + 0 + 0.73105858·1) / 4 = 0.05592783
  //   dbias = Σ dlogit = (-0.11920292 + 0.26894142 - 0.5 + 0.73105858) / 4 = 0.09519927
  Graph& g = m->graph();
  Gradients grads;
  backward(g, m->task().loss(), grads);
  check_values(test::values_of(grads.grad(g.id("score/kernel"))), {0.05592783f});
  check_values(test::values_of(grads.grad(g.id("score/bias"))), {0.09519927f});

  // AUC: positives score 2 and 0, negatives -1 and 1; of the 4 (positive, negative) pairs, 2 > -1,
  // 2 > 1, 0 > -1 are ordered right and 0 < 1 is not: 3/4.
  Metrics r = m->task().evaluate(*m, t, DataTables{}, 3);
  REQUIRE(r.size() == 2);
  CHECK(r[0].first == "loss");
  // batches of 3 and 1: (3·(0.12692801 + 0.31326169 + 0.69314718)/3 + 1.31326169) / 4 = 0.61164964
  CHECK(r[0].second == doctest::Approx(0.61164964));
  CHECK(r[1].first == "auc");
  CHECK(r[1].second == doctest::Approx(0.75));
}

TEST_CASE("Ranking config errors") {
  Table t = ranking_rows({1, 2}, FloatColumn{1, 0});
  std::string e = test::user_error([&] { test::build_model(test::replace_once(ranking_model(""), "units: 1", "units: 2"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:5:"));
  CHECK(test::contains(e, "a ranking prediction must be [batch, 1], got [B, 2]"));
  e = test::user_error([&] { test::build_model(ranking_model(", loss: hinge"), test::tables_of(t)); });
  CHECK(test::contains(e, "hinge"));
  CHECK(test::contains(e, "binary_crossentropy"));
  e = test::user_error([&] { test::build_model(test::replace_once(ranking_model(""), ", label: y", ""), test::tables_of(t)); });
  CHECK(test::contains(e, "label"));
}
