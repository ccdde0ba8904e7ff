// models/fit/nan_guard.cpp: a non-finite loss stops training before it reaches the parameters,
// naming the step, the batch and the first node holding a non-finite value; a parameter that
// turns non-finite is never written; either way the last good checkpoint stays.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "graph/error.hpp"
#include "models/fit/fit_probe.hpp"
#include "models/io/archive.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::probe;
using test::run_probe;

namespace {

// The RuntimeFailure `f` throws ("" when none).
std::string failure(const std::function<void()>& f) {
  try {
    f();
  } catch (const RuntimeFailure& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a NaN loss stops before backward, naming the step, the batch and the first non-finite node") {
  test::TempDir dir("nan_loss");
  FitOptions o = test::probe_options(3);
  o.checkpoint_every = 1;
  test::ProbeRun r;
  // Training batch 5 (epoch 2, batch 2) has a NaN label: the data, not an op, is the first
  // non-finite value.
  const std::string e = failure([&] {
    r = run_probe(o, dir.str(), {3, 2, 1}, false, [](test::ProbeLog& p) { p.nan_at_batch = 5; });
  });
  CHECK(e == "training stopped: the loss is NaN at step 5 (epoch 2, batch 2); first non-finite value at input "
             "'task/label' (the data, after preprocessing: an extreme value in its column?). The last good checkpoint "
             "(if any) in " + dir.str() + " is kept.");
  // The checkpoint is epoch 1's; nothing was written after; no model.dagrad.
  ArchiveReader ck(dir.file("checkpoint.dagrad"));
  CHECK(ck.integer("fit/epoch") == 1);
  CHECK(ck.integer("optimizer/iterations") == 3);
  CHECK_FALSE(std::filesystem::exists(dir.file("model.dagrad")));
  CHECK(probe().batches.size() == 5);
}

TEST_CASE("a parameter that turns non-finite is never checkpointed; the error names it and its step's epoch") {
  test::TempDir dir("nan_param");
  FitOptions o = test::probe_options(1);
  o.batch_size = 10;  // one step an epoch
  run_probe(o, dir.str(), {1});
  const std::string good = test::read_text(dir.file("checkpoint.dagrad"));
  std::filesystem::remove(dir.file("model.dagrad"));

  // Epoch 2's one step, at learning rate 1e38, overflows the kernel (its gradient is about -100);
  // the loss of that step was finite, so it is the check before epoch 2's checkpoint that stops.
  o.epochs = 2;
  o.optimizer_options.set("learning_rate", 1e38);
  const std::string e = failure([&] { run_probe(o, dir.str(), {1}, true); });
  CHECK(test::contains(e, "training stopped: parameter 'pred/"));
  CHECK(test::contains(e, "' is not finite after step 2 (epoch 2); a smaller learning rate may help. The last good "
                          "checkpoint (if any) in " + dir.str() + " is kept."));
  CHECK(test::read_text(dir.file("checkpoint.dagrad")) == good);
  CHECK_FALSE(std::filesystem::exists(dir.file("model.dagrad")));
}
