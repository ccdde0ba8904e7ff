#include "models/fit/fitter.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <ostream>
#include <random>

#include "autodiff/backward.hpp"
#include "models/metrics/mean_loss.hpp"
#include "models/optimizers/optimizer.hpp"

namespace dagrad {
namespace {

// The signal (SIGINT or SIGTERM) that asked training to stop, or 0.
std::atomic<int> g_interrupted{0};
extern "C" void on_stop_signal(int sig) { g_interrupted = sig; }

// Installs the stop handler for SIGINT and SIGTERM while it lives, restoring the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_interrupted = 0;
    old_int_ = std::signal(SIGINT, on_stop_signal);
    old_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Attrs options_to_attrs(const ConfigNode& opt) {
  Attrs a;
  for (const auto& [key, v] : opt.items()) {
    if (key == "type") continue;
    std::string d = v.describe();
    if (d.rfind("boolean", 0) == 0) a.set(key, v.as_bool());
    else if (d.rfind("integer", 0) == 0) a.set(key, v.as_int());
    else if (d.rfind("number", 0) == 0) a.set(key, v.as_double());
    else if (v.is_scalar()) a.set(key, v.as_string());
    else v.fail("expected a scalar optimizer option, found " + d);
  }
  return a;
}

bool all_finite(const Tensor& t) {
  for (float x : t.values())
    if (!std::isfinite(x)) return false;
  return true;
}

// The first node (in graph order) holding a non-finite value: the one that produced it, since
// its inputs are finite. For a NaN report.
std::string first_non_finite(Graph& g, int upto, int64_t step) {
  for (int i = 0; i <= upto; ++i) {
    const Node& n = g.node(i);
    if (n.type.dtype != DType::f32 || all_finite(g.value(i))) continue;
    if (n.kind == NodeKind::Param)
      return "parameter '" + n.name + "' (it became non-finite in the update of step " + std::to_string(step - 1) +
             "; a smaller learning rate may help)";
    if (n.kind == NodeKind::Op) return "node '" + n.name + "' (" + n.op_name + ")";
    return "input '" + n.name + "' (the data, after preprocessing: an extreme value in its column?)";
  }
  return "no single node (the loss itself)";
}

// The first parameter holding a non-finite value, or "" when all are finite.
std::string non_finite_parameter(Graph& g) {
  for (int id : g.params())
    if (!all_finite(g.param_value(id))) return g.node(id).name;
  return "";
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

class Progress {
 public:
  Progress(const std::string& mode, std::ostream& log) : log_(log) {
    bar_ = mode == "bar" || (mode == "auto" && ::isatty(STDERR_FILENO));
    lines_ = mode == "lines" || (mode == "auto" && !bar_);
  }
  void batch(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss, double rate, double eta) {
    if (!bar_) return;
    auto now = Clock::now();
    if (done < total && std::chrono::duration<double>(now - last_).count() < 0.2) return;
    last_ = now;
    int width = 24, fill = total ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\repoch %lld/%lld [%s%s] %lld/%lld  %.0f ex/s  loss %.4g  ETA %s   ",
                 static_cast<long long>(epoch), static_cast<long long>(epochs), std::string(fill, '=').c_str(),
                 std::string(width - fill, ' ').c_str(), static_cast<long long>(done), static_cast<long long>(total),
                 rate, loss, eta_str(eta).c_str());
    std::fflush(stderr);
  }
  void line(const std::string& s) {
    if (bar_) std::fprintf(stderr, "\r%-100s\n", s.c_str());
    else if (lines_) log_ << s << std::endl;
  }
  static std::string eta_str(double s) {
    char b[32];
    if (s >= 3600) std::snprintf(b, sizeof b, "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
    else std::snprintf(b, sizeof b, "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
    return b;
  }

 private:
  std::ostream& log_;
  bool bar_ = false, lines_ = false;
  Clock::time_point last_{};
};

}  // namespace

FitOptions FitOptions::from_config(const ConfigNode& fit) {
  fit.check_keys({"seed", "epochs", "batch_size", "shuffle", "optimizer", "validate_every", "evaluate_on",
                  "checkpoint_every", "checkpoint_minutes", "early_stopping", "progress"});
  FitOptions o;
  o.seed = static_cast<uint64_t>(fit.get_int("seed", 0, Range::at_least(0)));
  o.epochs = fit.require_int("epochs", Range::greater_than(0));
  o.batch_size = fit.require_int("batch_size", Range::greater_than(0));
  o.shuffle = fit.get_bool("shuffle", true);
  if (fit.has("optimizer")) {
    ConfigNode opt = fit.at("optimizer");
    o.optimizer = opt.require_string("type");
    o.optimizer_options = options_to_attrs(opt);
    try {
      OptimizerRegistry::instance().make(o.optimizer, o.optimizer_options);  // validates name and options now
    } catch (const UserError& e) {
      opt.fail(e.what());
    }
  }
  o.validate_every = fit.get_int("validate_every", 1, Range::at_least(0));
  o.evaluate_on = fit.get_enum("evaluate_on", {"test", "validation"}, "test");
  o.checkpoint_every = fit.get_int("checkpoint_every", 0, Range::at_least(0));
  o.checkpoint_minutes = fit.get_double("checkpoint_minutes", 10, Range::at_least(0));
  if (fit.has("early_stopping")) {
    ConfigNode es = fit.at("early_stopping");
    es.check_keys({"metric", "patience", "mode", "min_delta"});
    o.early_stopping_metric = es.require_string("metric");
    o.patience = es.get_int("patience", 3, Range::at_least(1));
    o.maximize = es.get_enum("mode", {"min", "max"}, "min") == "max";
    o.min_delta = es.get_double("min_delta", 0, Range::at_least(0));
  }
  o.progress = fit.get_enum("progress", {"auto", "bar", "lines", "none"}, "auto");
  return o;
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError("output directory " + dir + ": cannot create it (" + ec.message() + ")");
  // Named like write_file_atomic's temporaries, so that one left by a kill is cleared as they are.
  std::string probe = dir + "/.dagrad-write-test.tmp." + std::to_string(::getpid());
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
  return m.task().evaluate(m, t, data, batch_size);
}

FitResult fit(Model& m, const DataTables& data, const FitOptions& o, const std::string& out_dir,
              const ArchiveReader* resume, std::ostream& log) {
  check_fit_inputs(m, data);
  ensure_writable_dir(out_dir);
  const Table& train = data.train;
  const Table& eval = data.by_name(o.evaluate_on);

  Graph& g = m.graph();
  const int loss = m.task().loss();
  auto opt = OptimizerRegistry::instance().make(o.optimizer, o.optimizer_options);
  auto opt_state = opt->state(g);
  History history;
  FitResult result;
  int64_t start_epoch = 0, start_batch = 0;
  metrics::MeanLoss epoch_loss;
  double best = o.maximize ? -INFINITY : INFINITY, prior_seconds = 0;
  int64_t bad_evals = 0;
  if (resume) {
    for (auto& [name, t] : opt_state) t->copy_from(resume->tensor("optimizer/" + name, t->shape()));
    opt->iterations() = resume->integer("optimizer/iterations");
    start_epoch = resume->integer("fit/epoch");
    start_batch = resume->integer("fit/batch");
    epoch_loss.update(resume->number("fit/epoch_loss_mean"), resume->integer("fit/epoch_examples"));
    prior_seconds = resume->number("fit/seconds");
    best = resume->number("fit/best");
    bad_evals = resume->integer("fit/bad_evals");
    history.read(*resume);
    log << "resumed from " << resume->path() << " at epoch " << start_epoch << ", batch " << start_batch << "\n";
  }

  Clock::time_point last_checkpoint;
  // A checkpoint never holds non-finite parameters: the previous one stays the last good one.
  auto check_parameters = [&](int64_t epoch) {
    if (std::string p = non_finite_parameter(g); !p.empty())
      throw RuntimeFailure("training stopped: parameter '" + p + "' is not finite after step " +
                           std::to_string(opt->iterations()) + " (epoch " + std::to_string(epoch + 1) +
                           "); a smaller learning rate may help. The last good checkpoint (if any) in " + out_dir +
                           " is kept.");
  };
  auto checkpoint = [&](int64_t epoch, int64_t batch, double seconds) {
    check_parameters(epoch);
    ArchiveWriter w;
    m.write(w);
    for (auto& [name, t] : opt_state) w.put_tensor("optimizer/" + name, *t);
    w.put_int("optimizer/iterations", opt->iterations());
    w.put_int("fit/epoch", epoch);
    w.put_int("fit/batch", batch);
    w.put_double("fit/epoch_loss_mean", epoch_loss.examples() ? epoch_loss.result() : 0.0);
    w.put_int("fit/epoch_examples", epoch_loss.examples());
    w.put_double("fit/seconds", seconds);
    w.put_double("fit/best", best);
    w.put_int("fit/bad_evals", bad_evals);
    history.write(w);
    w.save(out_dir + "/checkpoint.dagrad");
    last_checkpoint = Clock::now();
  };

  EncodedTable enc = m.encode(train, {loss});
  const int64_t n = static_cast<int64_t>(train.rows());
  const int64_t batches = (n + o.batch_size - 1) / o.batch_size;
  Progress progress(o.progress, log);
  StopSignals stop_signals;
  const auto t0 = Clock::now();
  last_checkpoint = t0;
  const double checkpoint_seconds = o.checkpoint_minutes * 60;
  auto checkpoint_due = [&] { return checkpoint_seconds > 0 && since(last_checkpoint) >= checkpoint_seconds; };
  std::vector<int64_t> rows;
  Gradients grads;
  int64_t epoch = start_epoch;
  for (; epoch < o.epochs; ++epoch) {
    auto order = epoch_order(train.rows(), o.seed, epoch, o.shuffle);
    const auto te = Clock::now();
    int64_t b = epoch == start_epoch ? start_batch : 0;
    if (b == 0) epoch_loss.reset();
    for (; b < batches; ++b) {
      if (const int sig = g_interrupted) {
        result.interrupted = true;
        result.signal = sig;
        checkpoint(epoch, b, prior_seconds + since(t0));
        history.save(out_dir);
        progress.line(std::string("interrupted (") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + "): checkpoint written at epoch " +
                      std::to_string(epoch + 1) + ", batch " + std::to_string(b));
        result.epochs = epoch;
        result.seconds = prior_seconds + since(t0);
        result.final_metrics = history.rows().empty() ? Row{} : history.rows().back();
        return result;
      }
      int64_t begin = b * o.batch_size, count = std::min(o.batch_size, n - begin);
      rows.assign(order.begin() + begin, order.begin() + begin + count);
      Profile* prof = g.profile();
      auto tp = prof ? Clock::now() : Clock::time_point{};
      m.feeder().feed(g, enc, rows);
      m.task().prepare_batch(g, train, rows, true);
      if (prof) prof->feed_s += since(tp);
      g.forward(std::span<const int>(&loss, 1));
      double lv = g.value(loss).f32()[0];
      if (!std::isfinite(lv))
        throw RuntimeFailure("training stopped: the loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") + " at step " +
                             std::to_string(opt->iterations() + 1) + " (epoch " + std::to_string(epoch + 1) + ", batch " +
                             std::to_string(b + 1) + "); first non-finite value at " + first_non_finite(g, loss, opt->iterations() + 1) +
                             ". The last good checkpoint (if any) in " + out_dir + " is kept.");
      backward(g, loss, grads);
      if (prof) tp = Clock::now();
      opt->step(g, grads);
      if (prof) {
        prof->optimizer_s += since(tp);
        prof->steps++;
      }
      epoch_loss.update(lv, count);
      double el = since(te);
      double rate = static_cast<double>((b + 1) * o.batch_size) / std::max(el, 1e-9);
      double eta = (static_cast<double>(batches - b - 1) + static_cast<double>(o.epochs - epoch - 1) * batches) *
                   el / static_cast<double>(b + 1);
      progress.batch(epoch + 1, o.epochs, b + 1, batches, epoch_loss.result(), rate, eta);
      if (b + 1 < batches && checkpoint_due()) checkpoint(epoch, b + 1, prior_seconds + since(t0));
    }
    result.epoch_seconds.push_back(since(te));
    start_batch = 0;
    const int64_t done = epoch + 1;
    const bool last = done == o.epochs;
    const bool eval_now = (o.validate_every > 0 && done % o.validate_every == 0) || last;
    if (eval_now) {
      Row row = {{"epoch", static_cast<double>(done)}, {"loss", epoch_loss.result()}};
      Profile* prof = g.profile();  // a profile records training steps only
      g.attach_profile(nullptr);
      for (const auto& [k, v] : evaluate(m, eval, data, o.batch_size)) row.push_back({o.evaluate_on + "_" + k, v});
      g.attach_profile(prof);
      row.push_back({"seconds", prior_seconds + since(t0)});
      history.add(row);
      history.save(out_dir);
      std::string line = "epoch " + std::to_string(done) + "/" + std::to_string(o.epochs);
      for (const auto& [k, v] : row)
        if (k != "epoch" && (k == "loss" || k.find("top_100") != std::string::npos || k.find("top_") == std::string::npos))
          line += "  " + k + " " + json_number(v);
      progress.line(line);
      if (!o.early_stopping_metric.empty()) {
        double v = history.last(o.early_stopping_metric);
        if (std::isnan(v)) {
          std::string have;
          for (const auto& [k, x] : row) have += (have.empty() ? "" : ", ") + k;
          throw UserError("early_stopping.metric '" + o.early_stopping_metric + "' is not reported (metrics: " + have + ")");
        }
        bool improved = o.maximize ? v > best + o.min_delta : v < best - o.min_delta;
        if (improved) { best = v; bad_evals = 0; }
        else if (++bad_evals >= o.patience) {
          result.stopped_early = true;
          progress.line("early stopping: " + o.early_stopping_metric + " did not improve for " + std::to_string(bad_evals) + " evaluations");
        }
      }
    }
    if ((o.checkpoint_every > 0 && done % o.checkpoint_every == 0) || last || result.stopped_early || checkpoint_due())
      checkpoint(done, 0, prior_seconds + since(t0));
    if (result.stopped_early) { ++epoch; break; }
  }
  check_parameters(epoch - 1);
  m.save(out_dir + "/model.dagrad");
  result.epochs = std::min(epoch, o.epochs);
  result.seconds = prior_seconds + since(t0);
  result.final_metrics = history.rows().empty() ? Row{} : history.rows().back();
  return result;
}

std::string write_summary(const std::string& dir, const std::string& model, const FitResult& r) {
  std::string s = "{\"model\": " + json_string(model) + ", \"epochs\": " + std::to_string(r.epochs) +
                  ", \"seconds\": " + json_number(r.seconds) + ", \"stopped_early\": " + (r.stopped_early ? "true" : "false") +
                  ", \"interrupted\": " + (r.interrupted ? "true" : "false") + ", \"metrics\": " + json_object(r.final_metrics) + "}";
  write_file_atomic(dir + "/summary.json", s + "\n");
  return s;
}

}  // namespace dagrad
