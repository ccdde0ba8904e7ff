// models/fit/checkpoints.cpp: when checkpoints are written (epoch intervals, checkpoint_minutes
// mid-epoch, the end), the entries they hold (the format existing checkpoints resume from), and
// that resuming a mid-epoch checkpoint gives the parameters and history of a straight run.
#include <doctest/doctest.h>

#include <filesystem>

#include "models/fit/fit_probe.hpp"
#include "models/io/archive.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::probe;
using test::run_probe;

TEST_CASE("a checkpoint holds the loop's entries under the names existing checkpoints have") {
  test::TempDir dir("checkpoint_entries");
  FitOptions o = test::probe_options(2);
  o.optimizer = "Adagrad";
  o.optimizer_options = Attrs();
  run_probe(o, dir.str(), {1, 2});
  ArchiveReader ck(dir.file("checkpoint.dagrad"));
  std::vector<std::string> loop;
  for (const auto& name : ck.names())
    if (name.rfind("fit/", 0) == 0 || name.rfind("optimizer/", 0) == 0) loop.push_back(name);
  CHECK(loop == std::vector<std::string>{"fit/bad_evals", "fit/batch", "fit/best", "fit/epoch", "fit/epoch_examples",
                                         "fit/epoch_loss_mean", "fit/history", "fit/ranks", "fit/seconds",
                                         "optimizer/iterations", "optimizer/pred/bias/accumulator",
                                         "optimizer/pred/kernel/accumulator"});
  CHECK(ck.integer("fit/epoch") == 2);
  CHECK(ck.integer("fit/batch") == 0);
  CHECK(ck.integer("fit/ranks") == 1);  // a checkpoint without it (older) is of one process
  CHECK(ck.integer("optimizer/iterations") == 6);
  CHECK(ck.integer("fit/epoch_examples") == 10);  // the last epoch's, kept for a mid-epoch resume
  CHECK(ck.has("param/pred/kernel"));
  CHECK(std::filesystem::exists(dir.file("model.dagrad")));
}

TEST_CASE("checkpoint_minutes writes checkpoints mid-epoch; resuming one matches a straight run") {
  FitOptions o = test::probe_options(3);
  test::TempDir straight("checkpoint_straight");
  run_probe(o, straight.str(), {3, 2, 1});

  // checkpoint_minutes so small that every batch is due: after training batch 5 (epoch 2, batch
  // 2 of 3) the checkpoint on disk is the one written after batch 4. Keep a copy of it.
  test::TempDir timed("checkpoint_timed"), resumed("checkpoint_resumed");
  o.checkpoint_minutes = 1e-9;
  run_probe(o, timed.str(), {3, 2, 1}, false, [&](test::ProbeLog& p) {
    p.at_batch = [&](int64_t batch) {
      if (batch == 5) std::filesystem::copy_file(timed.file("checkpoint.dagrad"), resumed.file("checkpoint.dagrad"));
    };
  });
  ArchiveReader mid(resumed.file("checkpoint.dagrad"));
  CHECK(mid.integer("fit/epoch") == 1);
  CHECK(mid.integer("fit/batch") == 1);
  CHECK(mid.integer("optimizer/iterations") == 4);
  CHECK(mid.integer("fit/epoch_examples") == 4);
  // Writing checkpoints does not change the training.
  test::check_same_parameters(timed.file("model.dagrad"), straight.file("model.dagrad"));

  auto r = run_probe(o, resumed.str(), {2, 1}, true);
  CHECK(r.result.epochs == 3);
  CHECK(probe().batches.size() == 5);  // the rest of epoch 2 (2 batches) and epoch 3 (3)
  test::check_same_parameters(resumed.file("model.dagrad"), straight.file("model.dagrad"));
  CHECK(test::rows_but_seconds(History::load(resumed.str())) == test::rows_but_seconds(History::load(straight.str())));
}

TEST_CASE("checkpoint_minutes 0 and checkpoint_every 0: one checkpoint, at the end") {
  test::TempDir dir("checkpoint_end");
  FitOptions o = test::probe_options(3);
  o.checkpoint_minutes = 0;
  run_probe(o, dir.str(), {3, 2, 1});
  CHECK(probe().checkpoint_epoch == std::vector<int64_t>{-1, -1, -1});  // none at any evaluation
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).integer("fit/epoch") == 3);
}
