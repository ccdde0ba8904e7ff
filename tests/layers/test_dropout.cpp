// layers/dropout.cpp: training masks from the run's seed (or the layer's), the identity in inference,
// and the graph's step choosing the mask.
#include <doctest/doctest.h>

#include "models/fit/fitter.hpp"
#include "models/model_test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

Table rows_of_ones(int n) {
  Table t("interactions");
  t.add("a", FloatColumn(n, 1.0f));
  t.add("b", FloatColumn(n, 1.0f));
  return t;
}

std::string dropout_model(const std::string& keys) {
  return "name: dropout_test\n"
         "inputs: {a: float, b: float}\n"
         "layers:\n"
         "  x: {type: Concat, inputs: [a, b]}\n"
         "  d: {type: Dropout, input: x, " + keys + "}\n"
         "task: {type: Retrieval, query: d, candidate: d}\n";
}

}  // namespace

TEST_CASE("Dropout layer: masks in training, identity in inference, fixed by seed and step") {
  Table t = rows_of_ones(200);
  auto m = test::build_model(dropout_model("rate: 0.5"), test::tables_of(t));
  CHECK(m->graph().node(m->value("d")).op_name == "Dropout");
  auto y0 = test::values_of(test::forward(*m, t, "d"));
  int zeros = 0;
  for (float v : y0) {
    CHECK((v == 0 || v == 2));
    zeros += v == 0;
  }
  CHECK(zeros > 100);  // of 400; Binomial(400, 0.5) is below 100 with probability ~1e-24
  CHECK(zeros < 300);
  // The same step draws the same mask; the next step another.
  check_values(test::values_of(test::forward(*m, t, "d")), y0);
  m->graph().set_step(1);
  CHECK(test::values_of(test::forward(*m, t, "d")) != y0);
  // Inference: the identity.
  m->graph().set_training(false);
  check_values(test::values_of(test::forward(*m, t, "d")), std::vector<float>(400, 1.0f));

  // The seed follows the run's seed unless the layer names one.
  auto same_run = test::build_model(dropout_model("rate: 0.5"), test::tables_of(t), 1);
  auto other_run = test::build_model(dropout_model("rate: 0.5"), test::tables_of(t), 2);
  CHECK(test::values_of(test::forward(*same_run, t, "d")) == y0);
  CHECK(test::values_of(test::forward(*other_run, t, "d")) != y0);
  auto a = test::build_model(dropout_model("rate: 0.5, seed: 9"), test::tables_of(t), 1);
  auto b = test::build_model(dropout_model("rate: 0.5, seed: 9"), test::tables_of(t), 2);
  CHECK(test::values_of(test::forward(*a, t, "d")) == test::values_of(test::forward(*b, t, "d")));
}

TEST_CASE("Dropout layer: a rate of 1 is refused at its key") {
  Table t = rows_of_ones(2);
  std::string err = test::user_error([&] { test::build_model(dropout_model("rate: 1"), test::tables_of(t)); });
  CHECK(test::contains(err, "rate"));
  CHECK(test::contains(err, "in [0, 1)"));
}

TEST_CASE("evaluate runs in inference mode: Dropout passes through, and the mode is restored after") {
  // Rows that differ, so the in-batch softmax loss depends on every value Dropout could zero.
  Table t("interactions");
  FloatColumn a(64, 0.0f), b(64, 0.0f);
  for (int i = 0; i < 64; ++i) {
    a[i] = 0.1f * static_cast<float>(i % 7);
    b[i] = 0.05f * static_cast<float>(i % 5);
  }
  t.add("a", std::move(a));
  t.add("b", std::move(b));
  auto with = test::build_model(dropout_model("rate: 0.5"), test::tables_of(t));
  auto without = test::build_model(dropout_model("rate: 0.0"), test::tables_of(t));
  const DataTables data = test::tables_of(t);
  REQUIRE(with->graph().training());
  const Row r1 = evaluate(*with, t, data, 16);
  CHECK(with->graph().training());  // restored
  with->graph().set_step(7);        // another step would draw another mask, were one drawn
  const Row r2 = evaluate(*with, t, data, 16);
  const Row r0 = evaluate(*without, t, data, 16);
  REQUIRE(r1.size() == r0.size());
  for (size_t i = 0; i < r1.size(); ++i) {
    CAPTURE(r1[i].first);
    CHECK(r1[i].second == r2[i].second);
    CHECK(r1[i].second == doctest::Approx(r0[i].second).epsilon(1e-6));
  }
  with->graph().set_training(false);
  evaluate(*with, t, data, 16);
  CHECK(!with->graph().training());  // restored to what it was
}
