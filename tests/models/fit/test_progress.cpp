// models/fit/progress.cpp: the per-evaluation line is the same for every task: the epoch, then
// every entry of the evaluation row in its order (no task's metric is filtered or singled out).
#include <doctest/doctest.h>

#include <sstream>

#include "models/fit/fitter.hpp"
#include "models/fit/progress.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("Progress::epoch_line prints every entry of the evaluation row but the epoch, in order") {
  Row ranking = {{"epoch", 3}, {"loss", 0.25}, {"test_loss", 0.5}, {"test_rmse", 0.75}, {"seconds", 1.5}};
  CHECK(Progress::epoch_line(3, 10, ranking) == "epoch 3/10  loss 0.25  test_loss 0.5  test_rmse 0.75  seconds 1.5");
  // Retrieval: every top-k, not only one of them.
  Row retrieval = {{"epoch", 5},
                   {"loss", 2},
                   {"test_factorized_top_k/top_1_categorical_accuracy", 0.125},
                   {"test_factorized_top_k/top_100_categorical_accuracy", 0.5},
                   {"seconds", 4}};
  CHECK(Progress::epoch_line(5, 300, retrieval) ==
        "epoch 5/300  loss 2  test_factorized_top_k/top_1_categorical_accuracy 0.125"
        "  test_factorized_top_k/top_100_categorical_accuracy 0.5  seconds 4");
  // A metric the task could not compute (NaN) still has its place.
  CHECK(Progress::epoch_line(1, 1, {{"epoch", 1}, {"loss", 1}, {"test_auc", NAN}}) == "epoch 1/1  loss 1  test_auc null");
}

TEST_CASE("a Ranking fit in `lines` mode prints its loss, test_loss, test_rmse and seconds at each evaluation") {
  // y = 2x over ten rows, two of them for test.
  Table t("interactions");
  FloatColumn x(10), y(10);
  for (int i = 0; i < 10; ++i) x[i] = static_cast<float>(i), y[i] = 2.0f * static_cast<float>(i);
  t.add("x", x);
  t.add("y", y);
  DataTables data;
  data.interactions = t;
  data.train = t.slice(2, 10, "train");
  data.test = t.slice(0, 2, "test");
  auto m = test::build_model("name: line\ninputs: {x: float}\nlayers:\n  pred: {type: Dense, input: x, units: 1}\n"
                             "task: {type: Ranking, prediction: pred, label: y}\n",
                             data, 1);
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 4;
  o.optimizer = "SGD";
  o.optimizer_options.set("learning_rate", 0.001);
  o.progress = "lines";
  test::TempDir dir("progress_ranking");
  std::ostringstream log;
  FitResult r = fit(*m, data, o, dir.str(), nullptr, log);
  REQUIRE(r.epochs == 3);

  std::istringstream in(log.str());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  const Row& last = r.final_metrics;
  REQUIRE(last.size() == 5);
  CHECK(last[2].first == "test_loss");
  CHECK(last[3].first == "test_rmse");
  CHECK(lines[2] == "epoch 3/3  loss " + number_text(last[1].second) + "  test_loss " + number_text(last[2].second) +
                        "  test_rmse " + number_text(last[3].second) + "  seconds " + number_text(last[4].second));
  for (int i = 0; i < 2; ++i) CHECK(lines[i].rfind("epoch " + std::to_string(i + 1) + "/3  loss ", 0) == 0);
}
