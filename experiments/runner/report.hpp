// The report of an experiment: from each run's history.json under OUT/<experiment>/<run>/seed_<s>,
// the last value of every metric as mean ± sd over seeds, the anchors with their verdicts, and a
// figure per `figures` entry (PNG and SVG), written atomically into RESULTS/<experiment>/.
#pragma once
#include <string>
#include <vector>

#include "experiments/runner/experiment_file.hpp"

namespace dagrad::experiment {

// One anchor's outcome.
struct Verdict {
  const AnchorEntry* anchor;
  double mean = 0, sd = 0;        // the run's metric over its seeds
  double other = 0;               // `beats`: the other run's mean
  int seeds = 0;                  // seeds with a value
  bool met = false;
  std::string text;               // "1.1108 ± 0.0046 vs 1.11 ± 0.01: reproduced"
};

// OUT/<experiment>/<run>/seed_<s>.
std::string run_dir(const std::string& out, const ExperimentFile& e, const RunEntry& r, int seed);

// Reads the histories of the given runs (a run without a history counts as missing, a history that
// does not parse is an error naming the file), writes results.md and the figures into
// RESULTS/<experiment>/ and returns the anchors' verdicts (anchors of runs not given are skipped).
std::vector<Verdict> write_report(const ExperimentFile& e, const std::vector<const RunEntry*>& runs, const std::string& out,
                                  const std::string& results, const std::string& command);

}  // namespace dagrad::experiment
