// Crash safety of `dagrad fit`: SIGKILL at 20 seeded random moments never leaves a checkpoint
// that does not load, or one that cannot be resumed; SIGKILL exactly in the middle of writing each
// kind of output (the process stopped there by DAGRAD_TEST_STOP_IN_WRITE, then killed) leaves the
// old file whole and a temporary that the next run clears; Ctrl-C (SIGINT) and SIGTERM write a
// checkpoint and exit 130 / 143; resuming from a Ctrl-C or a mid-epoch timed checkpoint gives the
// same parameters as a run that was never interrupted.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "graph/error.hpp"
#include "models/fit/history.hpp"
#include "models/io/archive.hpp"
#include "reliability/reliability_util.hpp"

using namespace dagrad;
using test::FastTempDir;

namespace {

std::vector<std::string> fit_argv(const FastTempDir& d, const std::string& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {test::dagrad_exe(), "fit", d.file("model.yaml"), "--train", d.file("train.yaml"), "--out", out,
                                "--threads", "1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string shell_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += test::sh(a);
  }
  return s;
}

// Every parameter of two archives, bit for bit.
void check_same_parameters(const std::string& a_path, const std::string& b_path) {
  ArchiveReader a(a_path), b(b_path);
  int params = 0;
  for (const auto& name : a.names()) {
    if (name.rfind("param/", 0) != 0) continue;
    ++params;
    Tensor x = a.tensor(name), y = b.tensor(name);
    REQUIRE(x.shape() == y.shape());
    CHECK_MESSAGE(std::memcmp(x.f32(), y.f32(), static_cast<size_t>(x.size()) * 4) == 0, name);
  }
  CHECK(params > 0);
}

}  // namespace

TEST_SUITE_BEGIN("reliability");

TEST_CASE("SIGKILL at 20 random moments: the newest checkpoint always loads and resumes") {
  FastTempDir d("kill");
  // 150 users and items, 1,500 rows, batch 32: 38 steps an epoch (1,200 rows train), a checkpoint
  // of ~90 KB every epoch.
  test::write_retrieval_problem(d, 150, 150, 32, 1000, "  checkpoint_every: 1\n");
  // The kill moments are seeded. Every fourth trial kills during start-up (within 0.3 s of the
  // start: loading, adapting, the first writes); the others once the first checkpoint is on disk,
  // within 0.6 s after it (an epoch and its checkpoint take ~20 ms), so that they land anywhere in
  // training, evaluation and checkpointing however fast or loaded the machine is.
  std::mt19937 rng(20240607);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int kTrials = 20;
  int passed = 0, with_checkpoint = 0, mid_write = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int trial = 0; trial < kTrials; ++trial) {
    const bool at_start = trial % 4 == 0;
    const double at = unit(rng) * (at_start ? 0.3 : 0.6);
    const std::string out = d.file("out_" + std::to_string(trial));
    const std::string ck = out + "/checkpoint.dagrad";
    INFO("trial " << trial << ", killed " << at << " s after " << (at_start ? "the start" : "the first checkpoint"));
    {
      test::Child child(fit_argv(d, out), d.file("kill.log"));
      REQUIRE(child.started());
      if (!at_start)
        REQUIRE_MESSAGE(test::wait_until([&] { return std::filesystem::exists(ck) || child.done(); }, 60), child.output());
      std::this_thread::sleep_for(std::chrono::duration<double>(at));
      child.signal(SIGKILL);
      CHECK_MESSAGE(child.wait() == 128 + SIGKILL, child.output());
    }
    mid_write += !test::temporaries(out).empty();  // killed while writing a file
    bool ok = true;
    int64_t epoch = 0;
    if (std::filesystem::exists(ck)) {
      ++with_checkpoint;
      try {
        ArchiveReader r(ck);  // reads and verifies the whole file
        epoch = r.integer("fit/epoch");
        CHECK(epoch >= 1);
      } catch (const std::exception& e) {
        FAIL_CHECK("the newest checkpoint does not load: " << e.what());
        ok = false;
      }
      // The resume below rebuilds the model from the checkpoint every time; every fourth trial
      // also evaluates it as a model file (a process more, so not every time).
      if (trial % 4 == 1) {
        auto e = test::run(test::dagrad_exe() + " evaluate " + test::sh(ck) + " --train " + test::sh(d.file("train.yaml")) +
                           " --out " + test::sh(d.file("eval_" + std::to_string(trial))) + " --threads 1");
        CHECK_MESSAGE(e.status == 0, e.output);
        ok = ok && e.status == 0;
      }
    }
    // Whatever else is in the folder is whole: each file is written to a temporary and renamed.
    if (std::filesystem::exists(out + "/history.json")) {
      std::string damaged;  // a history cut short does not parse
      try {
        History::load(out);
      } catch (const std::exception& e) {
        damaged = e.what();
      }
      CHECK_MESSAGE(damaged.empty(), damaged);
      ok = ok && damaged.empty();
    }
    // Resuming finishes (one epoch more than the checkpoint has) and clears the killed run's
    // temporary files. Killed before its first checkpoint, the run has nothing to resume: --resume
    // says so and changes nothing, and a new run starts.
    std::vector<std::string> again = {"--set", "fit.epochs=" + std::to_string(epoch + 1)};
    if (std::filesystem::exists(ck)) {
      again.push_back("--resume");
    } else {
      const auto before = test::snapshot(out);
      auto refused = test::run(shell_line(fit_argv(d, out, {"--resume"})));
      CHECK_MESSAGE(refused.status == 2, refused.output);
      CHECK(test::contains(refused.output, "--resume: " + ck + " does not exist"));
      CHECK(test::snapshot(out) == before);
    }
    auto r = test::run(shell_line(fit_argv(d, out, again)));
    CHECK_MESSAGE(r.status == 0, r.output);
    if (epoch > 0) CHECK(r.output.find("resumed from " + ck + " at epoch " + std::to_string(epoch)) != std::string::npos);
    CHECK(std::filesystem::exists(out + "/model.dagrad"));
    CHECK(test::temporaries(out).empty());
    ok = ok && r.status == 0 && test::temporaries(out).empty();
    passed += ok;
    std::filesystem::remove_all(out);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("kill test: " << passed << " of " << kTrials << " kills recovered (" << with_checkpoint
                        << " had written a checkpoint, " << mid_write << " landed in the middle of a write), " << seconds << " s");
  CHECK(passed == kTrials);
  CHECK(with_checkpoint >= kTrials * 3 / 4);
}

TEST_CASE("SIGKILL exactly mid-write (stopped in the write, then killed): the old file stays whole, the run resumes") {
  // DAGRAD_TEST_STOP_IN_WRITE (graph/files.hpp) stops the process inside its Nth write of a file,
  // half written or complete but not renamed; the kill then lands there every time.
  FastTempDir d("kill_mid_write");
  test::write_retrieval_problem(d, 12, 12, 8, 3, "  checkpoint_every: 1\n  validate_every: 1\n");
  struct Case {
    std::string file, stage;
    int nth;
  };
  const std::vector<Case> cases = {{"checkpoint.dagrad", "partial", 2}, {"checkpoint.dagrad", "rename", 2},
                                   {"checkpoint.dagrad", "partial", 1}, {"history.json", "partial", 2},
                                   {"history.csv", "rename", 2},        {"model.dagrad", "partial", 1},
                                   {"summary.json", "rename", 1},       {"config.yaml", "partial", 1}};
  int mid_write = 0;
  for (const auto& c : cases) {
    const std::string hook = c.file + ":" + c.stage + ":" + std::to_string(c.nth);
    CAPTURE(hook);
    const std::string out = d.file("out_" + std::to_string(mid_write));
    const std::string target = out + "/" + c.file;
    std::string old_bytes, tmp;
    bool had_old = false;
    {
      test::Child child(fit_argv(d, out), d.file("mid.log"), {"DAGRAD_TEST_STOP_IN_WRITE=" + hook});
      REQUIRE(child.started());
      REQUIRE_MESSAGE(child.wait_stopped(60), "never stopped in the write: " << child.output());
      tmp = target + ".dagrad-tmp." + std::to_string(child.pid());
      had_old = std::filesystem::exists(target);
      if (had_old) old_bytes = test::read_text(target);
      const bool in_write = std::filesystem::exists(tmp);
      CHECK_MESSAGE(in_write, "no temporary " << tmp << " while stopped in the write");
      if (c.stage == "partial") CHECK(std::filesystem::file_size(tmp) > 0);
      child.signal(SIGKILL);
      CHECK(child.wait() == 128 + SIGKILL);
      mid_write += in_write;
    }
    CHECK(had_old == (c.nth > 1));  // the second write of a file replaces a first
    // The kill left its temporary; the file itself is the old one, whole, or absent.
    CHECK(std::filesystem::exists(tmp));
    if (had_old) CHECK(test::read_text(target) == old_bytes);
    else CHECK(!std::filesystem::exists(target));
    const std::string ck = out + "/checkpoint.dagrad";
    const bool has_checkpoint = std::filesystem::exists(ck);
    if (has_checkpoint) CHECK_NOTHROW(ArchiveReader{ck});
    if (std::filesystem::exists(out + "/history.json")) CHECK_NOTHROW(History::load(out));
    // Resuming (or, with no checkpoint yet, starting again) clears the temporary and finishes.
    auto r = test::run(shell_line(fit_argv(d, out, has_checkpoint ? std::vector<std::string>{"--resume"} : std::vector<std::string>{})));
    CHECK_MESSAGE(r.status == 0, r.output);
    CHECK(test::contains(r.output, "removed 1 temporary file"));
    CHECK(test::temporaries(out).empty());
    CHECK(std::filesystem::exists(out + "/model.dagrad"));
  }
  MESSAGE("kill test: " << mid_write << " of " << cases.size() << " kills landed in the middle of a write");
  CHECK(mid_write == static_cast<int>(cases.size()));
}

TEST_CASE("Ctrl-C writes a checkpoint and exits 130; --resume then matches an uninterrupted run") {
  FastTempDir d("sigint");
  test::write_retrieval_problem(d, 100, 100, 16, 40);
  // The uninterrupted run.
  auto straight = test::run(shell_line(fit_argv(d, d.file("straight"))));
  REQUIRE_MESSAGE(straight.status == 0, straight.output);

  const std::string out = d.file("out");
  test::Child child(fit_argv(d, out), d.file("sigint.log"));
  REQUIRE(child.started());
  // Interrupt once training is under way (the first epoch's line is out).
  REQUIRE_MESSAGE(test::wait_until([&] { return child.output().find("epoch 2/40") != std::string::npos || child.done(); }, 60),
                  child.output());
  child.signal(SIGINT);
  const int status = child.wait();
  const std::string log = child.output();
  INFO(log);
  REQUIRE(status == 130);
  CHECK(log.find("interrupted (SIGINT): checkpoint written at epoch") != std::string::npos);
  CHECK(nlohmann::json::parse(test::read_text(out + "/summary.json")).at("interrupted") == true);
  CHECK(!std::filesystem::exists(out + "/model.dagrad"));
  CHECK(test::temporaries(out).empty());
  ArchiveReader ck(out + "/checkpoint.dagrad");
  const int64_t epoch = ck.integer("fit/epoch"), batch = ck.integer("fit/batch");
  CHECK(epoch >= 1);
  CHECK(epoch < 40);

  auto resumed = test::run(shell_line(fit_argv(d, out, {"--resume"})));
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(resumed.output.find("resumed from " + out + "/checkpoint.dagrad at epoch " + std::to_string(epoch) + ", batch " +
                            std::to_string(batch)) != std::string::npos);
  CHECK(nlohmann::json::parse(test::read_text(out + "/summary.json")).at("interrupted") == false);
  check_same_parameters(out + "/model.dagrad", d.file("straight/model.dagrad"));
}

TEST_CASE("SIGTERM, as a scheduler sends it, also checkpoints: exit 143, then --resume finishes") {
  FastTempDir d("sigterm");
  test::write_retrieval_problem(d, 100, 100, 16, 40);
  const std::string out = d.file("out");
  test::Child child(fit_argv(d, out), d.file("sigterm.log"));
  REQUIRE(child.started());
  REQUIRE_MESSAGE(test::wait_until([&] { return child.output().find("epoch 1/40") != std::string::npos || child.done(); }, 60),
                  child.output());
  child.signal(SIGTERM);
  REQUIRE_MESSAGE(child.wait() == 128 + SIGTERM, child.output());
  CHECK(child.output().find("interrupted (SIGTERM): checkpoint written at epoch") != std::string::npos);
  const int64_t epoch = ArchiveReader(out + "/checkpoint.dagrad").integer("fit/epoch");
  auto resumed = test::run(shell_line(fit_argv(d, out, {"--resume", "--set", "fit.epochs=" + std::to_string(epoch + 1)})));
  CHECK_MESSAGE(resumed.status == 0, resumed.output);
  CHECK(resumed.output.find("resumed from " + out + "/checkpoint.dagrad at epoch " + std::to_string(epoch)) != std::string::npos);
}

TEST_CASE("checkpoint_minutes checkpoints mid-epoch; killed there, --resume matches an uninterrupted run") {
  FastTempDir d("timed");
  // checkpoint_every 0 (only at the end) but a checkpoint every 3 ms: many within an epoch.
  test::write_retrieval_problem(d, 100, 100, 16, 6, "  checkpoint_minutes: 0.00005\n");
  auto straight = test::run(shell_line(fit_argv(d, d.file("straight"))));
  REQUIRE_MESSAGE(straight.status == 0, straight.output);

  const std::string out = d.file("out"), ck = out + "/checkpoint.dagrad";
  int64_t epoch = -1, batch = -1;
  {
    test::Child child(fit_argv(d, out), d.file("timed.log"));
    REQUIRE(child.started());
    // Kill as soon as a checkpoint from the middle of an epoch is on disk.
    bool mid_epoch = test::wait_until([&] {
      if (child.done() || !std::filesystem::exists(ck)) return child.done();
      try {
        ArchiveReader r(ck);
        epoch = r.integer("fit/epoch");
        batch = r.integer("fit/batch");
      } catch (const UserError&) {
        return false;  // replaced between the existence check and the read
      }
      return batch > 0;
    }, 60);
    REQUIRE_MESSAGE(mid_epoch, child.output());
    child.signal(SIGKILL);
    REQUIRE(child.wait() == 128 + SIGKILL);
  }
  INFO("killed after the checkpoint at epoch " << epoch << ", batch " << batch);
  auto resumed = test::run(shell_line(fit_argv(d, out, {"--resume"})));
  REQUIRE_MESSAGE(resumed.status == 0, resumed.output);
  CHECK(resumed.output.find("resumed from " + ck + " at epoch ") != std::string::npos);
  check_same_parameters(out + "/model.dagrad", d.file("straight/model.dagrad"));
}

TEST_SUITE_END();
