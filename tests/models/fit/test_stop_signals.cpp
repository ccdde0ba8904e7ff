// models/fit/stop_signals.cpp: SIGINT or SIGTERM during training stops the loop before the next
// batch; the checkpoint written there resumes to the parameters of a straight run; the handlers
// that were there before fit() are back after it.
#include <doctest/doctest.h>

#include <csignal>
#include <cstdint>
#include <filesystem>

#include "models/fit/fit_probe.hpp"
#include "models/io/archive.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::probe;
using test::run_probe;

namespace {

// The handler installed for `sig` now, as an address (doctest prints it).
uintptr_t handler_of(int sig) {
  struct sigaction now {};
  sigaction(sig, nullptr, &now);
  return reinterpret_cast<uintptr_t>(now.sa_handler);
}

}  // namespace

TEST_CASE("a stop signal checkpoints before the next batch, and --resume matches an uninterrupted run") {
  const auto before_int = handler_of(SIGINT), before_term = handler_of(SIGTERM);
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    CAPTURE(name);
    FitOptions o = test::probe_options(3);
    test::TempDir straight("signals_straight"), dir("signals");
    run_probe(o, straight.str(), {3, 2, 1});
    CHECK(handler_of(SIGINT) == before_int);
    CHECK(handler_of(SIGTERM) == before_term);

    // The signal arrives during training batch 5 (epoch 2, batch 2 of 3): that step finishes, the
    // loop stops before batch 3, and the checkpoint says so.
    o.progress = "lines";
    auto r = run_probe(o, dir.str(), {3, 2, 1}, false,
                       [&](test::ProbeLog& p) { p.at_batch = [&](int64_t batch) { if (batch == 5) std::raise(sig); }; });
    CHECK(handler_of(SIGINT) == before_int);
    CHECK(handler_of(SIGTERM) == before_term);
    CHECK(r.result.interrupted);
    CHECK(r.result.signal == sig);
    CHECK(r.result.epochs == 1);
    CHECK(probe().batches.size() == 5);
    CHECK(test::contains(r.log, "interrupted (" + name + "): checkpoint written at epoch 2, batch 2\n"));
    ArchiveReader ck(dir.file("checkpoint.dagrad"));
    CHECK(ck.integer("fit/epoch") == 1);
    CHECK(ck.integer("fit/batch") == 2);
    CHECK(ck.integer("optimizer/iterations") == 5);
    CHECK_FALSE(std::filesystem::exists(dir.file("model.dagrad")));
    CHECK(History::load(dir.str()).rows().size() == 1);  // the history of epoch 1, saved on the way out

    auto resumed = run_probe(o, dir.str(), {2, 1}, true);
    CHECK_FALSE(resumed.result.interrupted);
    CHECK(resumed.result.epochs == 3);
    CHECK(probe().batches.size() == 4);  // the last of epoch 2 and epoch 3
    test::check_same_parameters(dir.file("model.dagrad"), straight.file("model.dagrad"));
    CHECK(test::rows_but_seconds(History::load(dir.str())) == test::rows_but_seconds(History::load(straight.str())));
  }
}

TEST_CASE("a stop signal before the first evaluation still leaves a history.json (with no rows)") {
  test::TempDir dir("signals_early");
  FitOptions o = test::probe_options(3);
  auto r = run_probe(o, dir.str(), {}, false,
                     [](test::ProbeLog& p) { p.at_batch = [](int64_t batch) { if (batch == 1) std::raise(SIGINT); }; });
  CHECK(r.result.interrupted);
  CHECK(ArchiveReader(dir.file("checkpoint.dagrad")).integer("fit/batch") == 1);
  CHECK(History::load(dir.str()).rows().empty());
}
