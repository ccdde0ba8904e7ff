// models/fit/early_stopping.cpp: its state (the best value, the evaluations without improvement)
// goes into checkpoints, so a run stopped and resumed stops early exactly where a straight run
// does; the entries are there when early stopping is off too. The stopping rule itself (patience,
// min_delta, mode) is checked in test_fitter.cpp.
#include <doctest/doctest.h>

#include <cmath>

#include "models/fit/fit_probe.hpp"
#include "models/io/archive.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::probe;
using test::run_probe;

TEST_CASE("early stopping's state survives a resume: the resumed run stops where a straight one does") {
  FitOptions o = test::probe_options(10);
  o.early_stopping_metric = "test_score";
  o.patience = 3;
  // 5 (best), 4 (best), 4.5 (1), 4.2 (2), 4.1 (3): a straight run stops after epoch 5.
  test::TempDir straight("early_straight");
  auto s = run_probe(o, straight.str(), {5, 4, 4.5, 4.2, 4.1, 3, 2, 1});
  REQUIRE(s.result.stopped_early);
  REQUIRE(s.result.epochs == 5);

  // The same run stopped after epoch 3: its checkpoint holds best 4 and one bad evaluation.
  test::TempDir split("early_split");
  o.epochs = 3;
  auto first = run_probe(o, split.str(), {5, 4, 4.5});
  CHECK_FALSE(first.result.stopped_early);
  ArchiveReader ck(split.file("checkpoint.dagrad"));
  CHECK(ck.number("fit/best") == 4);
  CHECK(ck.integer("fit/bad_evals") == 1);

  // Resumed to 10 epochs it sees 4.2 and 4.1 and stops after epoch 5, as the straight run did.
  // (Without the saved state, best would restart at +infinity and 4.2 would count as better.)
  o.epochs = 10;
  auto resumed = run_probe(o, split.str(), {4.2, 4.1, 3, 2, 1}, true);
  CHECK(resumed.result.stopped_early);
  CHECK(resumed.result.epochs == 5);
  CHECK(probe().evals == 2);
  CHECK(test::rows_but_seconds(History::load(split.str())) == test::rows_but_seconds(History::load(straight.str())));
  test::check_same_parameters(split.file("model.dagrad"), straight.file("model.dagrad"));
  ArchiveReader end(split.file("checkpoint.dagrad"));
  CHECK(end.number("fit/best") == 4);
  CHECK(end.integer("fit/bad_evals") == 3);
}

TEST_CASE("with early stopping off, checkpoints still hold its entries (best +infinity, -infinity for max)") {
  test::TempDir dir("early_off");
  FitOptions o = test::probe_options(1);
  run_probe(o, dir.str(), {1});
  ArchiveReader ck(dir.file("checkpoint.dagrad"));
  CHECK(ck.number("fit/best") == INFINITY);
  CHECK(ck.integer("fit/bad_evals") == 0);
  o.maximize = true;
  run_probe(o, dir.str(), {1});
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).number("fit/best") == -INFINITY);
}
