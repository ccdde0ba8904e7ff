// One benchmark measurement in this process: a two-tower configuration trained through the real
// framework path (models/run.hpp's prepare_run, Model, fit) on MovieLens or on synthetic data,
// with epoch times, the FLOP count per epoch (each op's Op::flops), the per-node profile, the
// FactorizedTopK evaluation time, the sgemm peak and the peak resident memory. The parent bench
// runs each configuration in its own process, so that peak memory is per configuration.
#pragma once
#include <cstdint>
#include <string>

#include "bench/synthetic_data.hpp"

namespace dagrad::bench {

struct RunRequest {
  std::string config = "64_32";  // experiments/movielens/towers_<config>.yaml
  std::string experiments_dir;   // where the YAML files are
  std::string data_dir;          // MovieLens; empty: the data source's default
  bool synthetic = false;        // synthetic data of `synth`'s size instead of MovieLens
  SyntheticSpec synth;
  int warmup_epochs = 1, timed_epochs = 7;
  int eval_repeats = 7;
  int64_t peak_n = 2048;
  int peak_repeats = 9;
  std::string out_dir;     // the fit's output (checkpoint, model), a scratch directory
  std::string export_dir;  // non-empty: write the encoded data there for the PyTorch reference
  bool full_evaluate = true;  // also time Task::evaluate (test loss + top-k)
  std::vector<std::string> sets;  // --set overrides: model.KEY=V for the model file, else the training file
};

// Runs the measurement and returns it as one line of JSON (see bench/README in docs/performance.md).
std::string run_one(const RunRequest& r);

}  // namespace dagrad::bench
