// Data-parallel training under real `mpirun -np 2` (docs/distributed.md): two ranks at batch B
// equal one process at batch 2B (the global in-batch softmax of the Retrieval task, the sparse and
// dense gradient exchange, the mean loss of Ranking); a checkpoint of 2 ranks refuses to resume on
// 1; a rank killed with SIGKILL ends the run within seconds, non-zero, naming the rank, and the last
// checkpoint loads. One thread per rank, small synthetic data, seconds in all. Built only when
// dagrad has MPI (meson option mpi); the suite 'mpi' says so when it is skipped.
#include <doctest/doctest.h>

#include <dirent.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "models/fit/history.hpp"
#include "models/io/archive.hpp"
#include "reliability/reliability_util.hpp"

using namespace dagrad;
using test::FastTempDir;

namespace {

// `mpirun -np N dagrad ARGS` on one thread per rank, as a shell command line. --oversubscribe: CI
// machines have 2 cores; --allow-run-as-root: CI runs as root.
std::string mpirun(int np, const std::string& args) {
  std::string env;
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer's reports of Open MPI's own allocations are suppressed by library
  // (scripts/lsan.supp), which needs whole stacks: frame-pointer unwinding stops inside Open MPI.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env = "ASAN_OPTIONS=" + test::sh(std::string(asan ? asan : "") + ":fast_unwind_on_malloc=0") + " ";
#endif
  return env + "mpirun --oversubscribe --allow-run-as-root -np " + std::to_string(np) + " -x OMP_NUM_THREADS=1 " +
         test::dagrad_exe() + " " + args + " --threads 1";
}

std::string fit_args(const FastTempDir& d, const std::string& out, const std::string& extra) {
  return "fit " + test::sh(d.file("model.yaml")) + " --train " + test::sh(d.file("train.yaml")) + " --out " +
         test::sh(d.file(out)) + " " + extra;
}

// The largest difference between the two runs' parameters, relative to max(1, |value|).
double max_parameter_difference(const std::string& a_path, const std::string& b_path) {
  ArchiveReader a(a_path), b(b_path);
  double worst = 0;
  int params = 0;
  for (const auto& name : a.names()) {
    if (name.rfind("param/", 0) != 0) continue;
    ++params;
    Tensor x = a.tensor(name), y = b.tensor(name);
    REQUIRE_MESSAGE(x.shape() == y.shape(), name);
    for (int64_t i = 0; i < x.size(); ++i) {
      const double u = x.f32()[i], v = y.f32()[i];
      worst = std::max(worst, std::abs(u - v) / std::max(1.0, std::abs(v)));
    }
  }
  CHECK(params > 0);
  return worst;
}

// Every training loss and metric of the two histories, within `tol` relative to max(1, |value|).
void check_same_history(const std::string& a_dir, const std::string& b_dir, double tol) {
  auto a = History::load(a_dir).rows(), b = History::load(b_dir).rows();
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  for (size_t r = 0; r < a.size(); ++r)
    for (const auto& [key, v] : a[r]) {
      if (key == "seconds") continue;
      double w = NAN;
      for (const auto& [k2, v2] : b[r])
        if (k2 == key) w = v2;
      INFO("epoch row " << r << ", " << key << ": " << v << " vs " << w);
      CHECK(std::abs(v - w) <= tol * std::max(1.0, std::abs(w)));
    }
}

// A ranking problem (MSE on a rating, a mean over the batch) beside the retrieval one's files.
void write_ranking_problem(const FastTempDir& d) {
  std::string inter = "user,item,item_id,rating\n";
  for (int rep = 0; rep < 10; ++rep)
    for (int u = 0; u < 60; ++u) {
      const int item = (7 * u + rep) % 60;
      inter += "u" + std::to_string(u) + ",item " + std::to_string(item) + "," + std::to_string(item) + "," +
               std::to_string(1 + (u + item) % 5) + "\n";
    }
  d.write("ratings.csv", inter);
  d.write("ranking.yaml", "name: ranking\n"
                          "inputs: {user: string, item: string, rating: float}\n"
                          "layers:\n"
                          "  user_index: {type: StringLookup, input: user}\n"
                          "  user_vec: {type: Embedding, input: user_index, output_dim: 8}\n"
                          "  item_index: {type: StringLookup, input: item}\n"
                          "  item_vec: {type: Embedding, input: item_index, output_dim: 8}\n"
                          "  both: {type: Concat, inputs: [user_vec, item_vec]}\n"
                          "  rating_hat: {type: MLP, input: both, units: [16, 1]}\n"
                          "task: {type: Ranking, prediction: rating_hat, label: rating}\n");
  d.write("ranking_train.yaml", "data:\n  source: csv\n  interactions: ratings.csv\n"
                                "  columns: {user: string, item: string, item_id: int, rating: float}\n"
                                "  split: {seed: 1, test: 0.2}\n"
                                "fit:\n  seed: 3\n  epochs: 2\n  batch_size: 32\n"
                                "  optimizer: {type: Adagrad, learning_rate: 0.1}\n  progress: lines\n");
}

// One process at batch 2B against `mpirun -np 2` at batch B, with `set` overrides for both.
void check_two_ranks_equal_one(const FastTempDir& d, const std::string& set, int batch) {
  const std::string one = test::dagrad_cmd(fit_args(d, "one", set + " --set fit.batch_size=" + std::to_string(2 * batch)));
  test::Proc p1 = test::run(one);
  INFO(p1.output);
  REQUIRE(p1.status == 0);
  test::Proc p2 = test::run(mpirun(2, fit_args(d, "two", set + " --set fit.batch_size=" + std::to_string(batch))));
  INFO(p2.output);
  REQUIRE(p2.status == 0);
  // Rank 0 alone prints the summary and writes the folder.
  CHECK(test::contains(p2.output, "\"model\""));
  // Float rounding only: each rank sums its half of a gradient's terms before the halves are added
  // (one process adds all terms in one order), so sums differ in their last bits (~1e-7 relative);
  // the optimizer's steps carry such differences on (measured: ~3e-7 in the losses after 12
  // Adagrad steps at learning rate 0.1; 1e-5 at 0.5, where early steps amplify them). 2e-5 is far
  // below any real difference: candidates left out of the softmax or a gradient lost change the
  // loss in its third digit or sooner.
  const double tol = 2e-5;
  check_same_history(d.file("one"), d.file("two"), tol);
  const double diff = max_parameter_difference(d.file("one/model.dagrad"), d.file("two/model.dagrad"));
  MESSAGE("largest relative parameter difference, 2 ranks at batch " << batch << " vs 1 at " << 2 * batch << ": " << diff);
  CHECK(diff <= tol);
}

// The pid of the dagrad process of rank `rank` whose command line mentions `marker`, or -1.
pid_t rank_pid(int rank, const std::string& marker) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = test::read_text("/proc/" + name + "/cmdline"), env = test::read_text("/proc/" + name + "/environ");
    if (cmd.find("dagrad") == std::string::npos || cmd.find(marker) == std::string::npos) continue;
    if (cmd.find("mpirun") != std::string::npos) continue;
    const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    for (size_t pos = 0; pos < env.size();) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (env.compare(pos, end - pos, want) == 0) found = static_cast<pid_t>(std::stol(name));
      pos = end + 1;
    }
    if (found > 0) break;
  }
  ::closedir(proc);
  return found;
}

}  // namespace

TEST_SUITE_BEGIN("mpi");

TEST_CASE("Retrieval on 2 ranks at batch B equals 1 process at batch 2B: the global in-batch softmax") {
  FastTempDir d("mpi_retrieval");
  // 60 users and items, 600 rows (480 to train): batch 2 x 40 gives 6 global batches an epoch, the
  // last one of 80 rows, 40 per rank.
  test::write_retrieval_problem(d, 60, 60, 8, 2);
  const std::string lr = "--set fit.optimizer.learning_rate=0.1 ";
  SUBCASE("plain") { check_two_ranks_equal_one(d, lr, 40); }
  SUBCASE("logQ correction from a column, accidental hits removed, temperature, fused") {
    // The probability column: the item id's share, so that the corrections differ by candidate.
    check_two_ranks_equal_one(d,
                              lr + "--set model.task.sampling_correction.type=column "
                                   "--set model.task.sampling_correction.column=item_id "
                                   "--set model.task.remove_accidental_hits=true --set model.task.temperature=0.5 "
                                   "--set model.task.fused=true",
                              40);
  }
  SUBCASE("logQ correction by streaming estimation (each rank's estimator sees the global batch)") {
    check_two_ranks_equal_one(d, lr + "--set model.task.sampling_correction.type=streaming", 40);
  }
  SUBCASE("a last global batch split unevenly (480 rows at 2 x 50: the last holds 80)") {
    check_two_ranks_equal_one(d, lr, 50);
  }
}

TEST_CASE("Ranking (a mean loss) on 2 ranks at batch B equals 1 process at batch 2B") {
  FastTempDir d("mpi_ranking");
  write_ranking_problem(d);
  const std::string one = test::dagrad_cmd("fit " + test::sh(d.file("ranking.yaml")) + " --train " +
                                           test::sh(d.file("ranking_train.yaml")) + " --out " + test::sh(d.file("one")) +
                                           " --set fit.batch_size=64");
  test::Proc p1 = test::run(one);
  INFO(p1.output);
  REQUIRE(p1.status == 0);
  test::Proc p2 = test::run(mpirun(2, "fit " + test::sh(d.file("ranking.yaml")) + " --train " +
                                          test::sh(d.file("ranking_train.yaml")) + " --out " + test::sh(d.file("two")) +
                                          " --set fit.batch_size=32"));
  INFO(p2.output);
  REQUIRE(p2.status == 0);
  check_same_history(d.file("one"), d.file("two"), 2e-5);
  const double diff = max_parameter_difference(d.file("one/model.dagrad"), d.file("two/model.dagrad"));
  MESSAGE("Ranking: largest relative parameter difference, 2 ranks vs 1: " << diff);
  CHECK(diff <= 2e-5);
}

TEST_CASE("a 2-rank checkpoint resumes on 2 ranks, and is refused on 1") {
  FastTempDir d("mpi_resume");
  test::write_retrieval_problem(d, 60, 60, 8, 2, "  checkpoint_every: 1\n");
  test::Proc p = test::run(mpirun(2, fit_args(d, "two", "--set fit.batch_size=40 --set fit.epochs=1")));
  INFO(p.output);
  REQUIRE(p.status == 0);
  test::Proc refused = test::run(test::dagrad_cmd(fit_args(d, "two", "--set fit.batch_size=80 --resume")));
  test::check_error(refused, 2, {"checkpoint of a run on 2 ranks", "not on 1"});
  test::Proc resumed = test::run(mpirun(2, fit_args(d, "two", "--set fit.batch_size=40 --resume")));
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK(test::contains(resumed.output, "resumed from"));
  CHECK(History::load(d.file("two")).rows().size() == 2);
}

TEST_CASE("a rank killed mid-run ends every rank within seconds, non-zero, naming it; the checkpoint is intact") {
  FastTempDir d("mpi_kill");
  // Many short epochs with a checkpoint each: the kill comes after at least one.
  test::write_retrieval_problem(d, 60, 60, 8, 100000, "  checkpoint_every: 1\n");
  const std::string out = d.file("run");
  const std::string log = d.file("mpirun.log");
  test::Child run({"/bin/sh", "-c", mpirun(2, fit_args(d, "run", "--set fit.batch_size=40"))}, log);
  REQUIRE(run.started());
  const std::string ck = out + "/checkpoint.dagrad";
  REQUIRE_MESSAGE(test::wait_until([&] { return std::filesystem::exists(ck); }, 60), test::read_text(log));
  pid_t victim = -1;
  REQUIRE(test::wait_until([&] { return (victim = rank_pid(1, out)) > 0; }, 10));
  const auto t0 = std::chrono::steady_clock::now();
  ::kill(victim, SIGKILL);
  const bool ended = test::wait_until([&] { return run.done(); }, 20);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(test::read_text(log));
  REQUIRE(ended);
  MESSAGE("mpirun ended " << seconds << " s after rank 1 was killed, status " << run.wait());
  CHECK(seconds < 15);
  CHECK(run.wait() != 0);
  const std::string text = test::read_text(log);
  CHECK((test::contains(text, "rank 1") || test::contains(text, "process rank 1")));
  CHECK(rank_pid(0, out) < 0);  // rank 0 is gone too
  ArchiveReader a(ck);           // loads: the last good checkpoint, whole
  CHECK(a.integer("fit/epoch") >= 1);
  CHECK(a.integer("fit/ranks") == 2);
  CHECK(test::temporaries(out).size() <= 1);  // at most the write the kill interrupted, which resume clears
}
