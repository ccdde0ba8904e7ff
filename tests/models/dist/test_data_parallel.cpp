// Data-parallel training under real `mpirun -np 2` (docs/distributed.md): two ranks at batch B
// equal one process at batch 2B (the global in-batch softmax of the Retrieval task, the sparse and
// dense gradient exchange, the mean loss of Ranking); a checkpoint of 2 ranks refuses to resume on
// 1; a rank killed with SIGKILL ends the run within seconds, non-zero, naming the rank, and the last
// checkpoint loads; sharded embedding tables train to the same bits as whole ones, each rank
// allocating its rows only, and their checkpoints resume. One thread per rank, small synthetic data, seconds in all. Built only when
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

// `mpirun -np N dagrad ARGS` on one thread per rank (or `threads`, with `exports` passed to the
// ranks as -x options), as a shell command line. --oversubscribe: CI machines have 2 cores;
// --allow-run-as-root: CI runs as root.
std::string mpirun(int np, const std::string& args, int threads = 1, const std::string& exports = "") {
  std::string env;
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer's reports of Open MPI's own allocations are suppressed by library
  // (scripts/lsan.supp), which needs whole stacks: frame-pointer unwinding stops inside Open MPI.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env = "ASAN_OPTIONS=" + test::sh(std::string(asan ? asan : "") + ":fast_unwind_on_malloc=0") + " ";
#endif
  const std::string t = std::to_string(threads);
  return env + "mpirun --oversubscribe --allow-run-as-root -np " + std::to_string(np) + " -x OMP_NUM_THREADS=" + t + " " +
         exports + test::dagrad_exe() + " " + args + " --threads " + t;
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
    for (const auto& entry : a[r]) {
      const std::string& key = entry.first;  // not a structured binding: INFO's lambda reads it (clang 14)
      const double v = entry.second;
      if (key == "seconds") continue;
      double w = NAN;
      for (const auto& [k2, v2] : b[r])
        if (k2 == key) w = v2;
      INFO("epoch row " << r << ", " << key << ": " << v << " vs " << w);
      CHECK(std::abs(v - w) <= tol * std::max(1.0, std::abs(w)));
    }
}

// Every training loss and metric of the two histories, bit for bit.
void check_identical_history(const std::string& a_dir, const std::string& b_dir) {
  auto a = History::load(a_dir).rows(), b = History::load(b_dir).rows();
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  for (size_t r = 0; r < a.size(); ++r)
    for (const auto& entry : a[r]) {
      const std::string& key = entry.first;  // not a structured binding: INFO's lambda reads it (clang 14)
      const double v = entry.second;
      if (key == "seconds") continue;
      double w = NAN;
      for (const auto& [k2, v2] : b[r])
        if (k2 == key) w = v2;
      INFO("epoch row " << r << ", " << key << ": " << v << " vs " << w);
      CHECK(v == w);
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
  // With both tables sharded: the same bits as the 2-rank run with whole tables (the mean loss's
  // share-weighted gradients go through the owners' sums as through the all-gather).
  test::Proc p3 = test::run(mpirun(2, "fit " + test::sh(d.file("ranking.yaml")) + " --train " +
                                          test::sh(d.file("ranking_train.yaml")) + " --out " + test::sh(d.file("sharded")) +
                                          " --set fit.batch_size=32 --set model.layers.user_vec.sharded=true "
                                          "--set model.layers.item_vec.sharded=true"));
  INFO(p3.output);
  REQUIRE(p3.status == 0);
  check_identical_history(d.file("two"), d.file("sharded"));
  CHECK(max_parameter_difference(d.file("two/model.dagrad"), d.file("sharded/model.dagrad")) == 0.0);
  // Two threads a rank with every independent node side by side (graph/schedule.hpp): the two
  // sharded lookups exchange rows with the other rank, so they must still run in the same order on
  // both ranks (Op::communicates); the run ends, and agrees with the one-thread run but for rounding.
  test::Proc p4 = test::run(mpirun(2,
                                   "fit " + test::sh(d.file("ranking.yaml")) + " --train " +
                                       test::sh(d.file("ranking_train.yaml")) + " --out " + test::sh(d.file("side")) +
                                       " --set fit.batch_size=32 --set model.layers.user_vec.sharded=true "
                                       "--set model.layers.item_vec.sharded=true",
                                   2, "-x DAGRAD_INTER_OP=always "));
  INFO(p4.output);
  REQUIRE(p4.status == 0);
  check_same_history(d.file("sharded"), d.file("side"), 2e-5);
  CHECK(max_parameter_difference(d.file("sharded/model.dagrad"), d.file("side/model.dagrad")) <= 2e-5);
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

// ---- Sharded embedding tables (docs/distributed.md, "Sharded embedding tables") ----

namespace {

// `mpirun -np 2` at batch B with the tables whole, then with `sharded` (--set overrides for the
// sharded run); the losses, metrics and every parameter of the saved models must be the same bits.
// They are because the sums are made in the same order: each rank adds its occurrences of a row in
// id order, and the row's owner adds the ranks' sums in rank order, as the whole table's sparse
// all-gather does (models/dist/data_parallel.cpp). Returns the sharded run's output.
std::string check_sharded_equals_whole(const FastTempDir& d, const std::string& common, const std::string& sharded) {
  test::Proc whole = test::run(mpirun(2, fit_args(d, "whole", common)));
  INFO(whole.output);
  REQUIRE(whole.status == 0);
  test::Proc split = test::run(mpirun(2, fit_args(d, "sharded", common + " " + sharded)));
  INFO(split.output);
  REQUIRE(split.status == 0);
  check_identical_history(d.file("whole"), d.file("sharded"));
  // The model is whole-table (rank 0 gathered the rows): same names and shapes as the other one.
  const double diff = max_parameter_difference(d.file("whole/model.dagrad"), d.file("sharded/model.dagrad"));
  MESSAGE("sharded vs whole tables on 2 ranks: largest parameter difference " << diff);
  CHECK(diff == 0.0);
  return split.output;
}

}  // namespace

TEST_CASE("a sharded table trains as the whole table on 2 ranks, bit for bit; each rank holds its rows only") {
  FastTempDir d("mpi_sharded");
  // 60 users and items: StringLookup gives 61 ids (an out-of-vocabulary one first), a row count
  // that 2 does not divide: rank 0 holds 31 rows, rank 1 30.
  test::write_retrieval_problem(d, 60, 60, 8, 2);
  const std::string out = check_sharded_equals_whole(
      d, "--set fit.batch_size=40 --set fit.optimizer.learning_rate=0.1",
      "--set model.layers.user_vec.sharded=true --set model.layers.item_vec.sharded=true");
  // Rank 0 reports what each rank allocated for its shards: 2 tables x rows x 8 floats, and as much
  // Adagrad accumulator.
  CHECK(test::contains(out, "rank 0: peak RSS"));
  CHECK(test::contains(out, "sharded tables " + std::to_string(2 * 31 * 8 * 4) + " bytes, their optimizer state " +
                                std::to_string(2 * 31 * 8 * 4) + " bytes"));
  CHECK(test::contains(out, "sharded tables " + std::to_string(2 * 30 * 8 * 4) + " bytes, their optimizer state " +
                                std::to_string(2 * 30 * 8 * 4) + " bytes"));
  // The model loads and evaluates in one process, without MPI.
  test::Proc eval = test::run(test::dagrad_cmd("evaluate " + test::sh(d.file("sharded/model.dagrad")) + " --train " +
                                               test::sh(d.file("train.yaml"))));
  INFO(eval.output);
  CHECK(eval.status == 0);
  CHECK(test::contains(eval.output, "top_5"));
}

TEST_CASE("sharded tables with ids repeated in every batch and on both ranks: lookups, bags, Adam") {
  FastTempDir d("mpi_sharded_repeats");
  // 6 users and 4 items: every rank's 8 rows of a batch repeat users and items, and both ranks ask
  // for the same rows. The candidate tower is a bag of the item's words ("item" in every row, then
  // its number), so bag lookups repeat too; Adam moves every row of a shard each step.
  test::write_retrieval_problem(d, 6, 4, 8, 3);
  d.write("model.yaml", "name: synthetic\n"
                        "inputs: {user: string, item: string, item_id: int}\n"
                        "layers:\n"
                        "  user_index: {type: StringLookup, input: user}\n"
                        "  user_vec: {type: Embedding, input: user_index, output_dim: 8, input_dim: 9}\n"
                        "  query: {type: Dense, input: user_vec, units: 8}\n"
                        "  item_words: {type: TextVectorization, input: item, adapt: candidates}\n"
                        "  item_vec: {type: EmbeddingBag, input: item_words, output_dim: 8}\n"
                        "  candidate: {type: Dense, input: item_vec, units: 8}\n"
                        "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id, "
                        "metrics: {top_k: [1, 2]}}\n");
  check_sharded_equals_whole(d, "--set fit.batch_size=8 --set fit.optimizer.type=Adam --set fit.optimizer.learning_rate=0.05",
                             "--set model.layers.user_vec.sharded=true --set model.layers.item_vec.sharded=true");
}

TEST_CASE("a sharded run's checkpoint resumes on 2 ranks to the uninterrupted run's bits, and is refused on 1") {
  FastTempDir d("mpi_sharded_resume");
  test::write_retrieval_problem(d, 60, 60, 8, 2, "  checkpoint_every: 1\n");
  const std::string set = "--set fit.batch_size=40 --set model.layers.user_vec.sharded=true "
                          "--set model.layers.item_vec.sharded=true ";
  test::Proc straight = test::run(mpirun(2, fit_args(d, "straight", set)));
  INFO(straight.output);
  REQUIRE(straight.status == 0);
  test::Proc first = test::run(mpirun(2, fit_args(d, "resumed", set + "--set fit.epochs=1")));
  INFO(first.output);
  REQUIRE(first.status == 0);
  // The checkpoint holds the tables and their Adagrad accumulators whole (gathered to rank 0).
  ArchiveReader ck(d.file("resumed/checkpoint.dagrad"));
  CHECK(ck.tensor("param/user_vec/embeddings").dim(0) == 61);
  CHECK(ck.tensor("optimizer/user_vec/embeddings/accumulator").dim(0) == 61);
  test::Proc refused = test::run(test::dagrad_cmd(fit_args(d, "resumed", set + "--set fit.batch_size=80 --resume")));
  test::check_error(refused, 2, {"checkpoint.dagrad", "checkpoint of a run on 2 ranks", "not on 1"});
  test::Proc resumed = test::run(mpirun(2, fit_args(d, "resumed", set + "--resume")));
  INFO(resumed.output);
  REQUIRE(resumed.status == 0);
  CHECK(test::contains(resumed.output, "resumed from"));
  check_identical_history(d.file("straight"), d.file("resumed"));
  CHECK(max_parameter_difference(d.file("straight/model.dagrad"), d.file("resumed/model.dagrad")) == 0.0);
}
