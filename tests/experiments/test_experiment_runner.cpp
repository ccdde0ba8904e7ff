// experiments/runner: an experiment file runs its runs over seeds through the `experiment` binary
// and reports mean ± sd, the anchors' verdicts and the figures; a mistake in the file is an error
// at its position, before anything runs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "experiments/runner/experiment_file.hpp"
#include "models/fit/history.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

std::string experiment_exe() { return std::string(DAGRAD_BUILD_DIR) + "/experiments/experiment"; }

// Ratings that depend on the item only (item i is rated 1 + i mod 5): a model with an item
// embedding learns them; one that sees only a constant cannot.
void write_toy_problem(const test::TempDir& d) {
  std::ostringstream r;
  r << "user,item,rating\n";
  for (int u = 0; u < 20; ++u)
    for (int k = 0; k < 10; ++k) {
      const int i = (3 * u + k) % 10;
      r << "u" << u << ",i" << i << "," << 1 + i % 5 << "\n";
    }
  d.write("ratings.csv", r.str());
  d.write("train.yaml", "data:\n  source: csv\n  interactions: ratings.csv\n"
                        "  columns: {user: string, item: string, rating: float}\n  split: {seed: 1, test: 0.25}\n"
                        "fit:\n  seed: 1\n  epochs: 30\n  batch_size: 25\n  optimizer: {type: Adagrad, learning_rate: 0.5}\n"
                        "  validate_every: 10\n  progress: none\n");
  d.write("item.yaml", "name: item_model\ninputs: {item: string}\nlayers:\n"
                       "  index: {type: StringLookup, input: item}\n  vec: {type: Embedding, input: index, output_dim: 4}\n"
                       "  rating_hat: {type: MLP, input: vec, units: [8, 1]}\n"
                       "task: {type: Ranking, prediction: rating_hat, label: rating}\n");
  d.write("user.yaml", "name: user_model\ninputs: {user: string}\nlayers:\n"
                       "  index: {type: StringLookup, input: user}\n  vec: {type: Embedding, input: index, output_dim: 4}\n"
                       "  rating_hat: {type: MLP, input: vec, units: [8, 1]}\n"
                       "task: {type: Ranking, prediction: rating_hat, label: rating}\n");
}

const char* kExperiment = R"(name: toy
title: "Toy ratings"
about: "Ratings that depend on the item only."
train: train.yaml
seeds: 2
runs:
  - {name: item, label: "item embedding", model: item.yaml}
  - {name: user, label: "user embedding", model: user.yaml, set: [fit.epochs=20]}
metrics:
  - {key: test_rmse, label: "test RMSE", digits: 3}
  - {key: test_loss, label: "test loss", digits: 3}
anchors:
  - {run: item, metric: test_rmse, value: 0.0, tolerance: 0.6, source: "by construction"}
  - {run: item, metric: test_rmse, beats: user, source: "the item decides the rating"}
  - {run: user, metric: test_rmse, value: 0.0, tolerance: 0.01, source: "impossible"}
figures:
  - {metric: test_rmse}
)";

std::vector<std::string> cells_of(const std::string& md, const std::string& first) {
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| " + first + " ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      const size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    }
    return cells;
  }
  return {};
}

}  // namespace

TEST_CASE("experiment runs every run over its seeds, then reports mean ± sd, the anchors and the figures") {
  test::TempDir d("experiment");
  write_toy_problem(d);
  d.write("experiment.yaml", kExperiment);
  auto p = test::run(experiment_exe() + " " + d.file("experiment.yaml") + " --out " + d.file("out") + " --results " +
                     d.file("results"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  // Seeds 1 and 2 set fit.seed and data.split.seed to 42 and 43; the run's own set applies.
  for (const char* run : {"item", "user"})
    for (int s : {1, 2}) CHECK(std::filesystem::exists(d.file("out/toy/" + std::string(run) + "/seed_" + std::to_string(s) + "/model.dagrad")));
  const std::string config = test::read_text(d.file("out/toy/user/seed_2/config.yaml"));
  CHECK(test::contains(config, "seed: 43"));
  CHECK(test::contains(config, "epochs: 20"));

  // The table's cells are the histories' last rows over the two seeds.
  const std::string md = test::read_text(d.file("results/toy/results.md"));
  INFO(md);
  CHECK(test::contains(md, "# Toy ratings"));
  CHECK(test::contains(md, "Ratings that depend on the item only."));
  std::vector<double> rmse;
  for (int s : {1, 2}) {
    const History h = History::load(d.file("out/toy/item/seed_" + std::to_string(s)));
    for (const auto& [k, v] : h.rows().back())
      if (k == "test_rmse") rmse.push_back(v);
  }
  REQUIRE(rmse.size() == 2);
  const double mean = (rmse[0] + rmse[1]) / 2, sd = std::fabs(rmse[0] - rmse[1]) / std::sqrt(2.0);
  char expect[64];
  std::snprintf(expect, sizeof expect, "%.3f ± %.3f", mean, sd);
  auto row = cells_of(md, "item embedding");
  REQUIRE(row.size() == 6);
  CHECK(row[1] == "2 of 2");
  CHECK(row[2] == expect);
  CHECK(row[4] == "30");
  CHECK(cells_of(md, "user embedding")[4] == "20");

  // Anchors: the item model reproduces "0 ± 0.6" and beats the user model; the user model misses.
  CHECK(mean < 0.6);
  CHECK(test::contains(p.output, "anchor: item embedding, test RMSE: " + std::string(expect) + " vs 0.000 ± 0.600: reproduced"));
  CHECK(test::contains(p.output, "vs lower than user embedding ("));
  CHECK(test::contains(p.output, "): beaten"));
  CHECK(test::contains(p.output, "anchor: user embedding, test RMSE: "));
  CHECK(test::contains(p.output, ": NOT met"));
  CHECK(test::contains(md, " by construction |"));
  // The figure, both formats.
  CHECK(std::filesystem::file_size(d.file("results/toy/test_rmse.png")) > 1000);
  CHECK(std::filesystem::file_size(d.file("results/toy/test_rmse.svg")) > 1000);

  // report alone, for one run, redraws from the histories.
  auto r = test::run(experiment_exe() + " report " + d.file("experiment.yaml") + " --runs item --out " + d.file("out") +
                     " --results " + d.file("results2"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const std::string md2 = test::read_text(d.file("results2/toy/results.md"));
  CHECK(cells_of(md2, "item embedding")[2] == expect);
  CHECK(cells_of(md2, "user embedding").empty());
  CHECK(test::contains(md2, "--runs item"));
}

TEST_CASE("experiment files: each mistake is an error at its position, before anything runs") {
  test::TempDir d("experiment_errors");
  write_toy_problem(d);
  auto error_of = [&](const std::string& from, const std::string& to) {
    std::string text = kExperiment;
    const size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    text.replace(at, from.size(), to);
    d.write("bad.yaml", text);
    auto p = test::run(experiment_exe() + " " + d.file("bad.yaml") + " --out " + d.file("out") + " --results " + d.file("res"));
    CHECK(p.status == 2);
    CHECK_FALSE(std::filesystem::exists(d.file("out")));
    CHECK_FALSE(std::filesystem::exists(d.file("res")));
    return p.output;
  };
  std::string e = error_of("label: \"item embedding\"", "lable: \"item embedding\"");
  CHECK(test::contains(e, "bad.yaml:7:"));
  CHECK(test::contains(e, "did you mean 'label'?"));
  e = error_of("{run: item, metric: test_rmse, beats: user", "{run: itme, metric: test_rmse, beats: user");
  CHECK(test::contains(e, "bad.yaml:14:"));
  CHECK(test::contains(e, "no run 'itme'; did you mean 'item'?"));
  e = error_of("model: user.yaml", "model: nouser.yaml");
  CHECK(test::contains(e, "no such file"));
  e = error_of("{metric: test_rmse}", "{metric: test_auc}");
  CHECK(test::contains(e, "no metric 'test_auc'"));
  e = error_of("value: 0.0, tolerance: 0.6,", "");
  CHECK(test::contains(e, "needs either `value`"));
  e = error_of("{name: user,", "{name: item,");
  CHECK(test::contains(e, "a second run named 'item'"));
  e = error_of("seeds: 2", "seeds: 0");
  CHECK(test::contains(e, "seeds"));

  d.write("experiment.yaml", kExperiment);
  auto p = test::run(experiment_exe() + " " + d.file("experiment.yaml") + " --runs iten --out " + d.file("out"));
  CHECK(p.status == 2);
  CHECK(test::contains(p.output, "--runs: no run 'iten'"));
}

TEST_CASE("experiment run --jobs 2: each run its own one-thread process, the same as one at a time") {
  test::TempDir d("experiment_jobs");
  write_toy_problem(d);
  d.write("experiment.yaml", kExperiment);
  const std::string common = " " + d.file("experiment.yaml") + " --set fit.epochs=6";
  auto p = test::run(experiment_exe() + common + " --threads 2 --jobs 2 --out " + d.file("par") + " --results " +
                     d.file("par_res"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  CHECK(test::contains(p.output, "== toy: user embedding, seed 2/2 -> " + d.file("par/toy/user/seed_2") + " (1 thread, log " +
                                     d.file("par/toy/user/seed_2.log") + ")"));
  CHECK(test::contains(p.output, "anchor: item embedding, test RMSE: "));
  p = test::run(experiment_exe() + common + " --threads 1 --out " + d.file("seq") + " --results " + d.file("seq_res"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  for (const char* run : {"item/seed_1", "item/seed_2", "user/seed_1", "user/seed_2"}) {
    CAPTURE(run);
    // One thread each way, same seeds and overrides (--set after the run's own: 6 epochs each): the
    // same history to the bit, but for the seconds.
    CHECK(test::history_but_seconds(d.file(std::string("par/toy/") + run)) ==
          test::history_but_seconds(d.file(std::string("seq/toy/") + run)));
    CHECK(test::contains(test::read_text(d.file(std::string("par/toy/") + run + ".log")), "== toy: "));
  }
  CHECK(test::read_text(d.file("par_res/toy/results.md")) != "");
  // --runs picks the runs side by side too.
  p = test::run(experiment_exe() + common + " --runs user --jobs 2 --out " + d.file("one") + " --results " + d.file("one_res"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  CHECK(std::filesystem::exists(d.file("one/toy/user/seed_2/history.csv")));
  CHECK(!std::filesystem::exists(d.file("one/toy/item")));

  // A run that fails: no new run starts, the exit status and the error are the run's.
  p = test::run(experiment_exe() + " " + d.file("experiment.yaml") + " --jobs 2 --set fit.epochs=0 --out " + d.file("bad") +
                " --results " + d.file("bad_res"));
  CHECK(p.status == 2);
  CHECK_MESSAGE(test::contains(p.output, "failed (exit 2)"), p.output);
  CHECK(test::contains(p.output, "fit.epochs: expected an integer > 0"));
  CHECK(!std::filesystem::exists(d.file("bad/toy/user")));
  CHECK(!std::filesystem::exists(d.file("bad_res")));
  // --only names one run and seed of the file.
  for (const char* only : {"item", "item:0", "item:3", "nope:1", "item:1x"}) {
    CAPTURE(only);
    p = test::run(experiment_exe() + " " + d.file("experiment.yaml") + " --only " + only + " --out " + d.file("only"));
    CHECK(p.status == 2);
    CHECK(test::contains(p.output, "--only"));
  }
}
