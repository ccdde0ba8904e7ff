// An experiment file (experiments/<name>/experiment.yaml): which model files to train with which
// training file, over how many seeds, which history columns to report, the published anchors to
// compare with, and the figures to draw. Read through a schema, so every mistake is an error at its
// file:line:col; `experiment --help-file` prints the keys.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "graph/schema.hpp"

namespace dagrad::experiment {

struct RunEntry {
  std::string name;                  // folder under OUT/<experiment>/, and the anchors' `run`
  std::string label;                 // in tables and legends
  std::string model;                 // model file (absolute, resolved against the experiment file)
  std::string train;                 // training file (absolute); the experiment's unless given
  std::vector<std::string> set;      // --set overrides of this run (after the experiment's own)
};

struct MetricEntry {
  std::string key;     // a history column ("test_rmse", "test_factorized_top_k/top_100_categorical_accuracy")
  std::string label;   // the table's column header
  int digits = 4;
  bool higher_is_better = false;
};

// A published number to reproduce (value ± tolerance), or a run to beat.
struct AnchorEntry {
  std::string run, metric;           // a run's name, a metric's key
  std::optional<double> value;       // the published number
  double tolerance = 0;              // |mean - value| <= tolerance counts as reproduced
  std::string beats;                 // or: this run's mean must be better than that run's
  std::string source;                // where the number comes from
};

struct FigureEntry {
  std::string metric;                // a metric's key: its value against the epoch, runs as lines
  std::string title;
};

struct ExperimentFile {
  std::string path;                  // the file itself
  std::string name, title, about;
  std::string train;                 // default training file (absolute)
  int seeds = 3;
  int64_t seed_base = 41;
  std::vector<std::string> seed_keys;
  std::vector<std::string> set;
  std::vector<RunEntry> runs;
  std::vector<MetricEntry> metrics;
  std::vector<AnchorEntry> anchors;
  std::vector<FigureEntry> figures;

  const RunEntry* run(const std::string& name) const;
  const MetricEntry* metric(const std::string& key) const;
};

// The keys of an experiment file and of its runs, metrics, anchors and figures (for --help-file).
const Schema& experiment_schema();
const Schema& run_schema();
const Schema& metric_schema();
const Schema& anchor_schema();
const Schema& figure_schema();

// Loads and checks the file (includes and --set overrides as for model files). Names of runs and
// metrics must be unique, anchors and figures must name declared runs and metrics, and the model
// and training files must exist: each mistake is a UserError at its position.
ExperimentFile load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace dagrad::experiment
