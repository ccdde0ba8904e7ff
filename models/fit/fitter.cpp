#include "models/fit/fitter.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <ostream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autodiff/backward.hpp"
#include "graph/row_shard.hpp"
#include "models/fit/callback.hpp"
#include "models/fit/checkpoints.hpp"
#include "models/fit/early_stopping.hpp"
#include "models/fit/nan_guard.hpp"
#include "models/fit/progress.hpp"
#include "models/fit/stop_signals.hpp"
#include "models/dist/data_parallel.hpp"

namespace dagrad {
namespace {

double since(FitClock::time_point t) { return std::chrono::duration<double>(FitClock::now() - t).count(); }

// The process's peak resident memory so far (VmHWM of /proc/self/status), in kB; 0 where unknown.
int64_t peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  return 0;
}


std::vector<int64_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

}  // namespace

const Schema& FitOptions::schema() {
  static const Schema s{
      Key::integer("seed", "initialisers and the per-epoch shuffles").in(Range::at_least(0)).otherwise(0),
      Key::integer("epochs", "passes over the training rows").in(Range::greater_than(0)).required(),
      Key::integer("batch_size", "examples per step (the last batch of an epoch may be smaller)")
          .in(Range::greater_than(0)).required(),
      Key::boolean("shuffle", "reshuffle the training rows every epoch (seeded)").otherwise(true),
      Key::typed_map("optimizer", "optimizer", "the optimizer and its options").otherwise_text("Adagrad"),
      Key::integer("validate_every", "epochs between evaluations (0: only after the last)")
          .in(Range::at_least(0)).otherwise(1),
      Key::choice("evaluate_on", {"test", "validation"}, "the split evaluations use").otherwise("test"),
      Key::integer("checkpoint_every", "epochs between checkpoints (0: only at the end and when stopped)")
          .in(Range::at_least(0)).otherwise(0),
      Key::number("checkpoint_minutes", "also a checkpoint, mid-epoch if need be, once this many minutes have passed "
                                        "(0: off)").in(Range::at_least(0)).otherwise(10.0),
      Key::map("early_stopping",
               {Key::string("metric", "the evaluation entry to watch (test_loss, test_top_100, validation_rmse...)")
                    .required(),
                Key::integer("patience", "evaluations without improvement before stopping").in(Range::at_least(1))
                    .otherwise(3),
                Key::choice("mode", {"min", "max"}, "whether lower or higher is better").otherwise("min"),
                Key::number("min_delta", "the least change that counts as an improvement").in(Range::at_least(0))
                    .otherwise(0.0)},
               "stop when the metric stops improving"),
      Key::choice("progress", {"auto", "bar", "lines", "none"},
                  "a progress bar, a line per evaluation, or nothing (auto: a bar on a terminal)").otherwise("auto")};
  return s;
}

FitOptions FitOptions::from_config(const ConfigNode& fit) {
  Keys k(fit, schema());
  FitOptions o;
  o.seed = static_cast<uint64_t>(k.integer("seed"));
  o.epochs = k.integer("epochs");
  o.batch_size = k.integer("batch_size");
  o.shuffle = k.boolean("shuffle");
  if (k.has("optimizer")) {
    ConfigNode opt = k.at("optimizer");
    if (!opt.is_map()) opt.fail("expected a map with the optimizer's type and options, found " + opt.describe());
    const OptimizerInfo& info = lookup(OptimizerRegistry::instance(), opt.at("type"));
    check_against(opt, Schema(OptimizerRegistry::common()).then(info.schema));
    o.optimizer = info.name;
    o.optimizer_options = attrs_from(opt, info.schema);
    try {
      OptimizerRegistry::instance().make(o.optimizer, o.optimizer_options);  // validates name and options now
    } catch (const UserError& e) {
      opt.fail(e.what());
    }
  }
  o.validate_every = k.integer("validate_every");
  o.evaluate_on = k.string("evaluate_on");
  o.checkpoint_every = k.integer("checkpoint_every");
  o.checkpoint_minutes = k.number("checkpoint_minutes");
  if (k.has("early_stopping")) {
    Keys es = k.sub("early_stopping");
    o.early_stopping_metric = es.string("metric");
    o.patience = es.integer("patience");
    o.maximize = es.string("mode") == "max";
    o.min_delta = es.number("min_delta");
  }
  o.progress = k.string("progress");
  return o;
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError("output directory " + dir + ": cannot create it (" + ec.message() + ")");
  // Named as write_file_atomic names its temporaries, so that one left by a kill is cleared as they are.
  std::string probe = temporary_path(dir + "/.dagrad-write-test");
  FILE* f = std::fopen(probe.c_str(), "w");
  if (!f) throw UserError("output directory " + dir + ": not writable");
  std::fclose(f);
  std::filesystem::remove(probe, ec);
}

void check_writable_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::absolute(dir.empty() ? "." : dir, ec);
  auto fail = [&](const std::string& why) { throw UserError("output directory " + dir + ": " + why); };
  // An output folder given as a symbolic link would have the run write into wherever it points
  // (another run's folder, a system folder): refused, as write_file_atomic refuses a link as a file.
  fs::path last = p;
  while (!last.empty() && last.filename().empty() && last != last.parent_path()) last = last.parent_path();  // "dir/"
  if (fs::is_symlink(last, ec))
    fail("is a symbolic link (to " + fs::read_symlink(last, ec).string() + "); give the folder itself");
  if (fs::exists(p, ec)) {
    if (!fs::is_directory(p, ec)) fail("exists and is not a directory");
    if (::access(p.c_str(), W_OK | X_OK) != 0) fail("not writable");
    return;
  }
  for (fs::path up = p.parent_path(); !up.empty(); up = up.parent_path()) {
    if (!fs::exists(up, ec)) {
      if (up == up.parent_path()) break;
      continue;
    }
    if (!fs::is_directory(up, ec)) fail("cannot create it (" + up.string() + " is not a directory)");
    if (::access(up.c_str(), W_OK | X_OK) != 0) fail("cannot create it (" + up.string() + " is not writable)");
    return;
  }
}

void check_fit_inputs(Model& m, const DataTables& data) {
  if (data.train.rows() == 0) throw UserError("no training rows");
  for (const auto& c : m.task().columns()) data.train.column(c);  // the task's columns exist
}

Row evaluate(Model& m, const Table& t, const DataTables& data, int64_t batch_size) {
  // In inference mode (Dropout passes its input through; ops skip what only a backward pass
  // needs), restored afterwards whatever happens.
  struct Inference {
    Graph& g;
    bool was;
    explicit Inference(Graph& graph) : g(graph), was(graph.training()) { g.set_training(false); }
    ~Inference() { g.set_training(was); }
  } inference(m.graph());
  return m.task().evaluate(m, t, data, batch_size);
}

FitState::FitState(Model& m, const FitOptions& o, std::string dir, int64_t train_rows)
    : world(distributed()),
      global_batch(o.batch_size * (world ? world->size() : 1)),
      writer(!world || world->rank() == 0),
      model(m),
      options(o),
      out_dir(std::move(dir)),
      optimizer(OptimizerRegistry::instance().make(o.optimizer, o.optimizer_options)),
      optimizer_state(optimizer->state(m.graph())),
      loss(m.task().loss()),
      batches((train_rows + global_batch - 1) / global_batch) {}

double FitState::seconds() const { return prior_seconds + since(started); }

namespace {

// One training step on batch s.batch of the epoch's `order`: feed, forward, backward, update. In a
// data-parallel run each rank takes its contiguous share of the global batch (rank order is row
// order), the gradients and the loss are summed over the ranks (DataParallel), and every rank
// applies the same step: the run equals one process at the global batch, up to float rounding.
void train_step(FitState& s, Callback& callbacks, const EncodedTable& enc, const Table& train,
                const std::vector<int64_t>& order, std::vector<int64_t>& rows, DataParallel* dp) {
  Graph& g = s.model.graph();
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t begin = s.batch * s.global_batch, count = std::min(s.global_batch, n - begin);
  int64_t lo = begin, hi = begin + count;
  if (s.world) {
    const int64_t r = s.world->rank(), ranks = s.world->size();
    lo = begin + count * r / ranks;
    hi = begin + count * (r + 1) / ranks;
  }
  rows.assign(order.begin() + lo, order.begin() + hi);
  Profile* prof = g.profile();
  auto tp = prof ? FitClock::now() : FitClock::time_point{};
  s.model.feeder().feed(g, enc, rows);
  s.model.task().prepare_batch(g, train, rows, true);
  g.set_step(s.epoch * s.batches + s.batch);  // what random ops (Dropout) draw from: a resume draws the same
  if (prof) prof->feed_s += since(tp);
  g.forward(std::span<const int>(&s.loss, 1));
  double loss = g.value(s.loss).f32()[0];
  // A loss that is a mean over the batch counts each rank's mean by its share of the global batch;
  // a sum (Retrieval's) is summed as it is.
  const double share = s.model.task().loss_is_batch_mean() ? static_cast<double>(hi - lo) / static_cast<double>(count) : 1.0;
  if (s.world) {
    double v = loss * share;
    s.world->allreduce_sum(std::span<double>(&v, 1));
    loss = v;
  }
  callbacks.on_loss(s, loss);
  if (share != 1.0) {
    const Tensor& l = g.value(s.loss);
    if (!(s.seed.defined() && s.seed.shape() == l.shape())) s.seed = Tensor(l.shape());
    s.seed.f32()[0] = static_cast<float>(share);
    backward(g, s.loss, s.gradients, &s.seed);
  } else {
    backward(g, s.loss, s.gradients);
  }
  if (prof) tp = FitClock::now();
  if (dp) s.optimizer->step(dp->reduce(g, s.gradients));
  else s.optimizer->step(g, s.gradients);
  if (prof) {
    prof->optimizer_s += since(tp);
    prof->steps++;
  }
  s.epoch_loss.update(loss, count);
}

// The evaluation row after an epoch, added to the history and saved: the epoch, its training
// loss, the task's metrics on the evaluation table (prefixed with its name), the seconds so far.
Row evaluate_epoch(FitState& s, const Table& eval, const DataTables& data) {
  Row row = {{"epoch", static_cast<double>(s.epoch)}, {"loss", s.epoch_loss.result()}};
  Graph& g = s.model.graph();
  Profile* prof = g.profile();  // a profile records training steps only
  g.attach_profile(nullptr);
  for (const auto& [k, v] : evaluate(s.model, eval, data, s.global_batch))  // in inference mode
    row.push_back({s.options.evaluate_on + "_" + k, v});
  g.attach_profile(prof);
  row.push_back({"seconds", s.seconds()});
  s.history.add(row);
  s.claim_outputs();
  if (s.writer) s.history.save(s.out_dir);
  return row;
}

bool evaluation_due(const FitState& s) {
  return (s.options.validate_every > 0 && s.epoch % s.options.validate_every == 0) || s.epoch == s.options.epochs;
}

}  // namespace

FitResult fit(Model& m, const DataTables& data, const FitOptions& o, const std::string& out_dir,
              const ArchiveReader* resume, std::ostream& log, std::function<void()> before_first_write) {
  check_fit_inputs(m, data);
  Collective* w = distributed();
  if (!w || w->rank() == 0) ensure_writable_dir(out_dir);
  m.set_serving_candidates(data.candidates);  // saved with the model: serving reads no training data
  const Table& train = data.train;
  const Table& eval = data.by_name(o.evaluate_on);
  FitState s(m, o, out_dir, static_cast<int64_t>(train.rows()));
  s.before_first_write = std::move(before_first_write);
  std::unique_ptr<DataParallel> dp;
  if (w) {
    const int64_t n = static_cast<int64_t>(train.rows()), last = n % s.global_batch;
    if (n < w->size() || (last != 0 && last < w->size()))
      throw UserError("the last global batch of an epoch holds " + std::to_string(last ? last : n) + " of " +
                      std::to_string(n) + " training rows, fewer than the " + std::to_string(w->size()) +
                      " ranks: every rank needs a row of every batch (choose another fit.batch_size)");
    if (s.model.task().loss_mixes_reductions())
      throw UserError("data-parallel training needs a task whose loss is a sum over the batch or a mean over it; "
                      "this MultiTask mixes the two");
    dp = std::make_unique<DataParallel>(*w);
  }

  StopSignals stop_signals;
  NanGuard nan_guard;
  Progress progress(s.writer ? o.progress : "none", log);
  EarlyStopping early_stopping(o);
  Checkpoints checkpoints(o, {&early_stopping});
  CallbackList callbacks({&stop_signals, &nan_guard, &progress, &early_stopping, &checkpoints});
  s.say = [&](const std::string& line) { progress.line(line); };
  if (resume) {
    checkpoints.restore(s, *resume);
    log << "resumed from " << resume->path() << " at epoch " << s.epoch << ", batch " << s.batch << "\n";
  }

  if (dp) dp->broadcast(m.graph(), s.optimizer_state);  // every rank starts from rank 0's parameters
  const EncodedTable enc = m.encode(train, {s.loss});
  std::vector<int64_t> rows;
  const int64_t bytes_before = world() ? world()->bytes_sent : 0;
  int64_t steps = 0, first_epoch_peak_kb = 0, step_bytes = 0;  // step_bytes: sent by training steps
  s.started = FitClock::now();
  callbacks.on_train_begin(s);
  while (s.epoch < o.epochs && !s.result.stopped_early) {
    const auto order = epoch_order(train.rows(), o.seed, s.epoch, o.shuffle);
    s.epoch_started = FitClock::now();
    if (s.batch == 0) s.epoch_loss.reset();
    while (s.batch < s.batches) {
      callbacks.on_batch_begin(s);
      if (w) {  // a signal seen by any rank stops every rank before the same batch
        const int64_t sig = w->allreduce_max(s.result.interrupted ? s.result.signal : 0);
        if (sig) s.interrupt(static_cast<int>(sig));
      }
      if (s.result.interrupted) break;
      const int64_t sent = w ? w->bytes_sent : 0;
      train_step(s, callbacks, enc, train, order, rows, dp.get());
      if (w) step_bytes += w->bytes_sent - sent;
      ++steps;
      ++s.batch;
      callbacks.on_batch_end(s);
    }
    if (s.result.interrupted) break;
    s.result.epoch_seconds.push_back(since(s.epoch_started));
    ++s.epoch;
    s.batch = 0;
    const Row row = evaluation_due(s) ? evaluate_epoch(s, eval, data) : Row{};
    if (!first_epoch_peak_kb) first_epoch_peak_kb = peak_rss_kb();  // before the epoch's checkpoint
    callbacks.on_epoch_end(s, row);
  }
  // Under mpirun, what each rank holds of its sharded tables and its peak memory (VmHWM) after the
  // first epoch's training and evaluation, and before the model is written (rank 0 then gathers the
  // sharded tables whole, as for every checkpoint): docs/distributed.md reports them.
  std::vector<int64_t> table_bytes, state_bytes, peak_kb, first_peak_kb;
  if (Collective* any = world(); any && steps > 0) {
    int64_t tb = 0, sb = 0;
    Graph& g = m.graph();
    for (int id : g.params())
      if (row_shard(g, id)) tb += g.param_value(id).size() * 4;
    for (const auto& [name, t] : s.optimizer_state)
      if (row_shard_of_state(g, name)) sb += t->size() * 4;
    table_bytes = any->allgather(tb);
    state_bytes = any->allgather(sb);
    peak_kb = any->allgather(peak_rss_kb());
    first_peak_kb = any->allgather(first_epoch_peak_kb);
  }
  callbacks.on_train_end(s);
  if (s.result.interrupted && s.writer) {  // history.json exists even before the first evaluation
    s.claim_outputs();
    s.history.save(out_dir);
  }

  if (Collective* any = world(); any && any->rank() == 0 && steps > 0) {  // under mpirun: what docs/distributed.md reports
    // One string, written at once: mpirun forwards each write of a rank's stderr as it comes, and
    // the pieces of a line written one by one could come out with the rank's stdout between them.
    std::ostringstream report;
    report.copyfmt(log);
    double train_s = 0;
    for (double e : s.result.epoch_seconds) train_s += e;
    report << "mpirun, " << any->size() << " rank" << (any->size() == 1 ? "" : "s") << ": " << steps << " steps of "
        << s.global_batch << " examples in " << train_s << " s of training (" << static_cast<double>(train.rows()) *
               static_cast<double>(s.result.epoch_seconds.size()) / std::max(train_s, 1e-9)
        << " examples/s); rank 0 sent " << step_bytes / steps << " bytes per step (" << (any->bytes_sent - bytes_before) / steps
        << " with evaluations and checkpoints)\n";
    for (int r = 0; r < any->size(); ++r) {
      const auto k = static_cast<size_t>(r);
      report << "rank " << r << ": peak RSS " << first_peak_kb[k] << " kB in the first epoch (training, evaluation), "
          << peak_kb[k] << " kB before the model was written (checkpoints included)";
      if (table_bytes[k]) report << "; sharded tables " << table_bytes[k] << " bytes, their optimizer state " << state_bytes[k] << " bytes";
      report << "\n";
    }
    log << report.str() << std::flush;
  }
  s.result.epochs = std::min(s.epoch, o.epochs);
  s.result.seconds = s.seconds();
  s.result.final_metrics = s.history.rows().empty() ? Row{} : s.history.rows().back();
  return s.result;
}

std::string write_summary(const std::string& dir, const std::string& model, const FitResult& r, const std::string& file) {
  const nlohmann::ordered_json summary = {{"model", model},
                                          {"epochs", r.epochs},
                                          {"seconds", r.seconds},
                                          {"stopped_early", r.stopped_early},
                                          {"interrupted", r.interrupted},
                                          {"metrics", row_json(r.final_metrics)}};
  // One line (the commands print it last); bytes that are not UTF-8 in the name become U+FFFD.
  std::string text = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  write_file_atomic(dir + "/" + file, text + "\n");
  return text;
}

}  // namespace dagrad
