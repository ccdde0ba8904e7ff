// The training loop's callbacks (Keras-like): what fit() shares with them (FitState) and the
// hooks it calls. Each concern the loop does not own (checkpoints, progress, early stopping, stop
// signals, non-finite values) is one Callback in a file of its own.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/backward.hpp"
#include "graph/collective.hpp"
#include "models/fit/fitter.hpp"
#include "models/metrics/mean_loss.hpp"
#include "models/optimizers/optimizer.hpp"

namespace dagrad {

using FitClock = std::chrono::steady_clock;

// The loop's state. Callbacks read it and change it only through stop_early() and interrupt();
// Checkpoints::restore sets it from a checkpoint before training starts.
struct FitState {
  FitState(Model& m, const FitOptions& o, std::string out_dir, int64_t train_rows);

  // A data-parallel run's world (graph/collective.hpp), or null in a single process. Each rank
  // trains on its share of every global batch of global_batch = batch_size x ranks examples; only
  // the writer (rank 0) writes into out_dir.
  Collective* const world;
  const int64_t global_batch;
  const bool writer;

  Model& model;
  const FitOptions& options;
  const std::string out_dir;
  std::unique_ptr<Optimizer> optimizer;
  std::vector<std::pair<std::string, Tensor*>> optimizer_state;  // for checkpoints
  Gradients gradients;    // what each step's backward computes
  Tensor seed;            // backward's seed when a rank's loss is scaled by its share of the batch
  const int loss;         // the loss node
  const int64_t batches;  // per epoch; the last one may be partial
  // Where training is: `batch` batches of epoch `epoch` (both from 0) are done. A checkpoint
  // stores this position; after an epoch it is (epoch + 1, 0).
  int64_t epoch = 0, batch = 0;
  metrics::MeanLoss epoch_loss;  // over the epoch's batches so far
  History history;
  FitResult result;
  double prior_seconds = 0;  // of the runs this one resumes
  FitClock::time_point started, epoch_started;
  // Prints a line through the progress display (above the bar, in the log, or nowhere).
  std::function<void(const std::string&)> say = [](const std::string&) {};
  // Called once, just before the run's first write into out_dir (see fit()): every writer calls
  // claim_outputs() first, so that a run that fails or is refused before writing anything leaves
  // the folder as it was.
  std::function<void()> before_first_write;
  void claim_outputs() {
    if (!before_first_write || !writer) return;
    auto f = std::move(before_first_write);
    before_first_write = nullptr;
    f();
  }

  // Training and evaluation time so far, resumed runs included.
  double seconds() const;
  // Asks the loop to stop after this epoch's end: the run is complete (model.dagrad is written).
  void stop_early() { result.stopped_early = true; }
  // Asks the loop to stop before the next batch: a checkpoint is written, no model.dagrad, and
  // the command exits 128 + signal.
  void interrupt(int signal) {
    result.interrupted = true;
    result.signal = signal;
  }
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(FitState&) {}
  virtual void on_batch_begin(FitState&) {}
  // After forward, before backward and the optimizer step: the loss has not changed a parameter
  // yet, so a callback that throws here leaves them as the last step left them.
  virtual void on_loss(FitState&, double /*loss*/) {}
  virtual void on_batch_end(FitState&) {}
  // After each epoch; `row` is the evaluation row (already in the history), empty when the epoch
  // was not evaluated.
  virtual void on_epoch_end(FitState&, const Row& /*row*/) {}
  // After the last epoch, after an early stop, or on interruption (not after an exception).
  virtual void on_train_end(FitState&) {}
  // The callback's own state in a checkpoint, so that a resumed run continues it.
  virtual void save(ArchiveWriter&) const {}
  virtual void load(const ArchiveReader&) {}
};

// The callbacks of one fit, called in order.
class CallbackList : public Callback {
 public:
  explicit CallbackList(std::vector<Callback*> callbacks) : callbacks_(std::move(callbacks)) {}
  void on_train_begin(FitState& s) override { for (Callback* c : callbacks_) c->on_train_begin(s); }
  void on_batch_begin(FitState& s) override { for (Callback* c : callbacks_) c->on_batch_begin(s); }
  void on_loss(FitState& s, double loss) override { for (Callback* c : callbacks_) c->on_loss(s, loss); }
  void on_batch_end(FitState& s) override { for (Callback* c : callbacks_) c->on_batch_end(s); }
  void on_epoch_end(FitState& s, const Row& row) override { for (Callback* c : callbacks_) c->on_epoch_end(s, row); }
  void on_train_end(FitState& s) override { for (Callback* c : callbacks_) c->on_train_end(s); }

 private:
  std::vector<Callback*> callbacks_;
};

}  // namespace dagrad
