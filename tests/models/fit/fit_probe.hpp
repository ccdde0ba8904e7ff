// The fitter's tests' probe: a task (FitProbe, registered in fit_probe.cpp) over a one-unit Dense
// on ten rows (x = 0..9, y = 2x) that records every training batch's rows and, at each
// evaluation, which checkpoint is on disk, reports a scripted metric ("score"), and can make a
// label NaN or run a hook at a given training batch. run_probe() fits it, fresh or resumed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/fit/fitter.hpp"

namespace dagrad::test {

struct ProbeLog {
  std::vector<std::vector<int64_t>> batches;  // rows of every training batch, in order
  std::vector<double> script;                 // the metric each evaluation reports, in order
  std::vector<int64_t> checkpoint_epoch;      // fit/epoch of checkpoint.dagrad at each evaluation; -1: none
  std::string out_dir;
  size_t evals = 0;
  int64_t nan_at_batch = 0;  // the labels of this training batch (1 = the first of the run) are NaN; 0: none
  std::function<void(int64_t batch)> at_batch;  // called with each training batch's number (from 1)
};

ProbeLog& probe();

struct ProbeRun {
  FitResult result;
  std::string log;
  std::unique_ptr<Model> model;
};

// Fits the probe into `out_dir` (resumed from out_dir/checkpoint.dagrad when `resume`), with a
// fresh ProbeLog reporting `script`; `log` gets the progress lines.
ProbeRun run_probe(const FitOptions& o, const std::string& out_dir, std::vector<double> script = {}, bool resume = false,
                   std::function<void(ProbeLog&)> setup = {});

// SGD 0.001 in batches of 4 (three a epoch: 4, 4, 2), seed 11, no progress output.
FitOptions probe_options(int64_t epochs);

// Every parameter of two archives (model.dagrad or checkpoint.dagrad) is the same, bit for bit.
void check_same_parameters(const std::string& a_path, const std::string& b_path);

// The history's rows without their seconds, for comparing runs.
std::vector<Row> rows_but_seconds(const History& h);

}  // namespace dagrad::test
