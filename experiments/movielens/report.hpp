// Results of the MovieLens experiment across configurations and seeds: read each run's
// history.json, aggregate per configuration (mean, min, max, standard deviation over seeds), draw
// one Top-k-against-epoch figure per k and write the Markdown table.
#pragma once
#include <string>
#include <vector>

namespace dagrad::movielens {

struct ConfigRuns {
  std::string name;                    // e.g. "64_32"
  std::string label;                   // e.g. "[64, 32]"
  std::vector<std::string> run_dirs;   // one per seed, each with history.json and summary.json
};

// Writes top_<k>.png and top_<k>.svg for each k and results.md into `results_dir`. Runs without a history are
// reported as missing, not silently dropped; a history that does not parse is a UserError naming
// the file.
void write_report(const std::vector<ConfigRuns>& configs, const std::vector<int>& ks, const std::string& results_dir,
                  const std::string& command);

}  // namespace dagrad::movielens
