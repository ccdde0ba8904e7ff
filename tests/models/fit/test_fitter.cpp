// models/fit/fitter.cpp: the training loop's bookkeeping. A probe task (fit_probe.hpp) records every
// training batch's rows and, at each evaluation, which checkpoint is on disk, and reports a
// scripted metric, so batching, shuffling, validate_every, checkpoint_every, early stopping and
// the history files are checked exactly. One end-to-end run goes through `dagrad fit`.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "models/io/archive.hpp"
#include "models/fit/fit_probe.hpp"
#include "models/fit/fitter.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

using test::probe;
using test::ProbeRun;
using test::run_probe;

FitOptions options(int64_t epochs) { return test::probe_options(epochs); }

// The epoch of each row of dir/history.json.
std::vector<int64_t> epoch_epochs(const std::string& dir) {
  std::vector<int64_t> e;
  for (const Row& r : History::load(dir).rows()) {
    REQUIRE(!r.empty());
    REQUIRE(r[0].first == "epoch");
    e.push_back(static_cast<int64_t>(r[0].second));
  }
  return e;
}

}  // namespace

TEST_CASE("fit keeps the last partial batch and reshuffles each epoch, reproducibly for a seed") {
  test::TempDir dir("fitter_batches");
  FitOptions o = options(2);
  o.validate_every = 0;
  run_probe(o, dir.str());
  auto batches = probe().batches;
  // 10 rows in batches of 4: 4 + 4 + 2 per epoch, 3 steps per epoch.
  REQUIRE(batches.size() == 6);
  std::vector<size_t> sizes;
  for (const auto& b : batches) sizes.push_back(b.size());
  CHECK(sizes == std::vector<size_t>{4, 4, 2, 4, 4, 2});
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).integer("optimizer/iterations") == 6);
  // Each epoch visits every row once, in an order of its own.
  std::vector<int64_t> e1, e2;
  for (int i = 0; i < 3; ++i) e1.insert(e1.end(), batches[i].begin(), batches[i].end());
  for (int i = 3; i < 6; ++i) e2.insert(e2.end(), batches[i].begin(), batches[i].end());
  CHECK(std::set<int64_t>(e1.begin(), e1.end()).size() == 10);
  CHECK(std::set<int64_t>(e2.begin(), e2.end()).size() == 10);
  std::vector<int64_t> identity(10);
  std::iota(identity.begin(), identity.end(), 0);
  CHECK(e1 != identity);
  CHECK(e1 != e2);

  // The same seed gives the same batches; another seed other ones.
  test::TempDir again("fitter_batches_again");
  run_probe(o, again.str());
  CHECK(probe().batches == batches);
  o.seed = 12;
  run_probe(o, again.str());
  CHECK(probe().batches != batches);
  // shuffle: false visits the rows in order.
  o.shuffle = false;
  run_probe(o, again.str());
  REQUIRE(probe().batches.size() == 6);
  CHECK(probe().batches[0] == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(probe().batches[2] == std::vector<int64_t>{8, 9});
  CHECK(probe().batches[3] == std::vector<int64_t>{0, 1, 2, 3});
}

TEST_CASE("fit evaluates every validate_every epochs and at the end, checkpoints every checkpoint_every") {
  test::TempDir dir("fitter_every");
  FitOptions o = options(5);
  o.validate_every = 2;
  o.checkpoint_every = 2;
  ProbeRun r = run_probe(o, dir.str(), {0.5, 0.25, 0.125});
  // Evaluations after epochs 2, 4 and 5 (the last). Each runs before that epoch's checkpoint, so
  // it sees the one before: none yet, epoch 2, epoch 4. The end writes epoch 5.
  CHECK(epoch_epochs(dir.str()) == std::vector<int64_t>{2, 4, 5});
  CHECK(probe().checkpoint_epoch == std::vector<int64_t>{-1, 2, 4});
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).integer("fit/epoch") == 5);
  CHECK(std::filesystem::exists(dir.file("model.dagrad")));
  CHECK(r.result.epochs == 5);
  CHECK_FALSE(r.result.stopped_early);
  CHECK(r.log.empty());  // progress: none

  // history.csv: a header of the keys in order, one row per evaluation.
  std::istringstream csv(test::read_text(dir.file("history.csv")));
  std::vector<std::string> lines;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "epoch,loss,test_score,seconds");
  const std::vector<std::string> starts = {"2,", "4,", "5,"}, scores = {",0.5,", ",0.25,", ",0.125,"};
  for (int i = 0; i < 3; ++i) {
    CHECK(lines[i + 1].rfind(starts[i], 0) == 0);
    CHECK_MESSAGE(lines[i + 1].find(scores[i]) != std::string::npos, lines[i + 1]);
  }
  // history.json: {"rows": [...]}, the same rows as objects with their keys in order.
  const auto json = nlohmann::ordered_json::parse(test::read_text(dir.file("history.json")));
  REQUIRE(json.is_object());
  CHECK(json.size() == 1);
  REQUIRE(json.at("rows").size() == 3);
  const auto& row = json.at("rows")[1];
  std::vector<std::string> keys;
  for (const auto& [k, v] : row.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"epoch", "loss", "test_score", "seconds"});
  CHECK(row.at("epoch").is_number_integer());
  CHECK(row.at("epoch") == 4);
  CHECK(row.at("test_score") == 0.25);

  // checkpoint_every 0: only at the end; validate_every 0: one evaluation, at the end.
  test::TempDir other("fitter_every_0");
  o.validate_every = 0;
  o.checkpoint_every = 0;
  run_probe(o, other.str(), {0.5});
  CHECK(epoch_epochs(other.str()) == std::vector<int64_t>{5});
  CHECK(probe().checkpoint_epoch == std::vector<int64_t>{-1});
  CHECK(ArchiveReader(other.file("checkpoint.dagrad")).integer("fit/epoch") == 5);
}

TEST_CASE("fit stops early after `patience` evaluations without improvement") {
  test::TempDir dir("fitter_early");
  FitOptions o = options(10);
  o.early_stopping_metric = "test_score";
  o.patience = 3;
  // 5 (best), 4 (best), 4.5, 4.2, 4.1 (three without improvement): stop after epoch 5.
  ProbeRun r = run_probe(o, dir.str(), {5, 4, 4.5, 4.2, 4.1, 3, 2, 1});
  CHECK(r.result.stopped_early);
  CHECK(r.result.epochs == 5);
  CHECK(probe().evals == 5);
  CHECK(probe().batches.size() == 15);
  CHECK(epoch_epochs(dir.str()) == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).integer("fit/epoch") == 5);
  CHECK(std::filesystem::exists(dir.file("model.dagrad")));
  std::string summary = write_summary(dir.str(), "probe", r.result);
  CHECK(test::read_text(dir.file("summary.json")) == summary + "\n");
  CHECK(summary.find('\n') == std::string::npos);  // one line: the commands print it last
  const auto json = nlohmann::ordered_json::parse(summary);
  std::vector<std::string> keys;
  for (const auto& [k, v] : json.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"model", "epochs", "seconds", "stopped_early", "interrupted", "metrics"});
  CHECK(json.at("model") == "probe");
  CHECK(json.at("epochs") == 5);
  CHECK(json.at("stopped_early") == true);
  CHECK(json.at("interrupted") == false);
  CHECK(json.at("metrics").at("test_score") == 4.1);

  SUBCASE("an improvement resets the count") {
    // 5 (best), 5.5 (1), 5.2 (2), 4 (best), 4.5 (1), 4.2 (2), 4.1 (3): stop after epoch 7.
    r = run_probe(o, dir.str(), {5, 5.5, 5.2, 4, 4.5, 4.2, 4.1, 1});
    CHECK(r.result.epochs == 7);
    CHECK(r.result.stopped_early);
  }
  SUBCASE("min_delta: smaller improvements do not count") {
    o.min_delta = 0.5;
    o.patience = 2;
    // 5 (best), 4.8 (not below 4.5), 4.6 (not below 4.5): stop after epoch 3.
    r = run_probe(o, dir.str(), {5, 4.8, 4.6, 3});
    CHECK(r.result.epochs == 3);
  }
  SUBCASE("mode max") {
    o.maximize = true;
    o.patience = 2;
    // 1 (best), 2 (best), 2 (not above), 1.5: stop after epoch 4.
    r = run_probe(o, dir.str(), {1, 2, 2, 1.5, 3});
    CHECK(r.result.epochs == 4);
  }
  SUBCASE("never stopping runs every epoch") {
    r = run_probe(o, dir.str(), {10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
    CHECK(r.result.epochs == 10);
    CHECK_FALSE(r.result.stopped_early);
    CHECK(nlohmann::json::parse(write_summary(dir.str(), "probe", r.result)).at("stopped_early") == false);
  }
  SUBCASE("a metric that is not reported") {
    o.early_stopping_metric = "test_scor";
    std::string e = test::user_error([&] { run_probe(o, dir.str(), {1}); });
    CHECK(test::contains(e, "early_stopping.metric 'test_scor' is not reported (metrics: epoch, loss, test_score, seconds)"));
  }
}

TEST_CASE("fit's `lines` progress mode writes one line per evaluation and the early stop") {
  test::TempDir dir("fitter_lines");
  FitOptions o = options(4);
  o.progress = "lines";
  o.early_stopping_metric = "test_score";
  o.patience = 1;
  ProbeRun r = run_probe(o, dir.str(), {2, 1, 1.5});
  INFO(r.log);
  std::istringstream in(r.log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  for (int i = 0; i < 3; ++i) CHECK(lines[i].rfind("epoch " + std::to_string(i + 1) + "/4  loss ", 0) == 0);
  CHECK(lines[0].find("  test_score 2  seconds ") != std::string::npos);
  CHECK(lines[2].find("  test_score 1.5  seconds ") != std::string::npos);
  CHECK(lines[3] == "early stopping: test_score did not improve for 1 evaluations");
}

TEST_CASE("dagrad fit stops early on a real metric and says so in summary.json") {
  // Ranking on y = 2x. With min_delta 1000 only the first evaluation improves (on +infinity):
  // patience 2 stops after epoch 3 of 50.
  test::TempDir d("fitter_cli");
  std::ostringstream csv;
  csv << "x,y\n";
  for (int i = 0; i < 10; ++i) csv << i << "," << 2 * i << "\n";
  d.write("data.csv", csv.str());
  d.write("model.yaml", "name: line\ninputs: {x: float}\nlayers:\n  pred: {type: Dense, input: x, units: 1}\n"
                        "task: {type: Ranking, prediction: pred, label: y}\n");
  d.write("train.yaml", "data: {source: csv, interactions: data.csv, columns: {x: float, y: float}, split: {seed: 1, test: 2}}\n"
                        "fit:\n  epochs: 50\n  batch_size: 4\n  progress: lines\n"
                        "  optimizer: {type: SGD, learning_rate: 0.001}\n"
                        "  early_stopping: {metric: test_rmse, patience: 2, min_delta: 1000}\n");
  auto p = test::run(test::dagrad_exe() + " fit " + d.file("model.yaml") + " --train " + d.file("train.yaml") + " --out " +
                     d.file("out"));
  INFO(p.output);
  REQUIRE(p.status == 0);
  CHECK(p.output.find("epoch 3/50  loss ") != std::string::npos);
  CHECK(p.output.find("epoch 4/50") == std::string::npos);
  CHECK(p.output.find("early stopping: test_rmse did not improve for 2 evaluations") != std::string::npos);
  const auto summary = nlohmann::json::parse(test::read_text(d.file("out/summary.json")));
  CHECK(summary.at("epochs") == 3);
  CHECK(summary.at("stopped_early") == true);
  CHECK(summary.at("metrics").at("test_rmse").is_number());
  CHECK(epoch_epochs(d.file("out")) == std::vector<int64_t>{1, 2, 3});
}
