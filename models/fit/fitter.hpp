// The one generic training loop: epochs of seeded, reshuffled batches (the last partial batch
// kept), an optimizer registered by name, evaluation every N epochs into a history. What is not
// the loop is a callback (callback.hpp) in a file of its own: checkpoints (atomic; resumable with
// results identical to an uninterrupted run at the same thread count), progress, early stopping,
// stop signals (a checkpoint on Ctrl-C or SIGTERM) and the stop with the step and node when the
// loss is not finite.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "graph/attrs.hpp"
#include "models/fit/history.hpp"
#include "models/model.hpp"

namespace dagrad {

struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  uint64_t seed = 0;           // initialisers and per-epoch shuffles
  bool shuffle = true;
  std::string optimizer = "Adagrad";
  Attrs optimizer_options;
  int64_t validate_every = 1;  // epochs between evaluations; 0: only at the end
  std::string evaluate_on = "test";  // or "validation"
  int64_t checkpoint_every = 0;      // epochs between checkpoints; 0: only at the end and on Ctrl-C
  // Also a checkpoint (mid-epoch if need be) once this many minutes have passed since the last,
  // so that a killed run loses at most that much training; 0: off.
  double checkpoint_minutes = 10;
  std::string early_stopping_metric;  // e.g. "test_loss"; empty: off
  int64_t patience = 0;
  bool maximize = false;
  double min_delta = 0;
  std::string progress = "auto";  // "bar", "lines", "none"; auto: a bar on a terminal

  // Reads the training file's `fit` map (errors name file, line and key).
  static FitOptions from_config(const ConfigNode& fit);
  // Its keys (the defaults above are the same, for programs that fill FitOptions themselves).
  static const Schema& schema();
};

struct FitResult {
  int64_t epochs = 0;     // completed
  double seconds = 0;     // training and evaluation time of this and earlier (resumed) runs
  // Training time of each epoch this run completed (its batches only: no evaluation, no checkpoint).
  std::vector<double> epoch_seconds;
  Row final_metrics;      // the last history row
  bool stopped_early = false;
  bool interrupted = false;  // by SIGINT (Ctrl-C) or SIGTERM, after writing a checkpoint
  int signal = 0;            // which; the commands exit with 128 + signal
};

// Trains `m` on data.train, evaluating on data.<evaluate_on>. Writes into out_dir: history.json,
// history.csv, checkpoint.dagrad (model + optimizer + loop state), model.dagrad at the end.
// `resume_from` continues a checkpoint (the model must have been built from it).
// `before_first_write` is called once, just before the first file is written (run_fit writes
// config.yaml there), so that a run that fails or is refused before then leaves out_dir as it was.
FitResult fit(Model& m, const DataTables& data, const FitOptions& o, const std::string& out_dir,
              const ArchiveReader* resume_from, std::ostream& log, std::function<void()> before_first_write = {});

// Evaluation only: the task's metrics on a table.
Row evaluate(Model& m, const Table& t, const DataTables& data, int64_t batch_size);

// Fails before any training when `dir` cannot be created or written.
void ensure_writable_dir(const std::string& dir);

// The same check without creating anything: `dir` is a writable folder, or the nearest folder
// above it that exists is one (so it can be made), and `dir` is not a symbolic link (the run would
// write into its target). UserError naming `dir` and the reason.
void check_writable_dir(const std::string& dir);

// The checks fit() makes on its inputs before training (training rows, the task's columns), for
// callers that want every error before their first write.
void check_fit_inputs(Model& m, const DataTables& data);

// summary.json (or `file`: evaluate writes evaluation_<split>.json): {"model": ..., "epochs": N,
// "seconds": S, "metrics": {...}, ...}, atomically; returns the JSON text (one line).
std::string write_summary(const std::string& dir, const std::string& model, const FitResult& r,
                          const std::string& file = "summary.json");

}  // namespace dagrad
