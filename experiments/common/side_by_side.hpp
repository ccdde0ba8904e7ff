// Runs of an experiment side by side: each run a process of the running program, up to N at once
// (how `movielens_two_tower train --jobs N` and `experiment run --jobs N` train). One process per run
// because the runs share nothing, and a process's oneDNN primitives are serialised
// (ops/kernels/kernels.cpp).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace dagrad::experiment {

struct SideBySideRun {
  std::string label;              // printed when the run starts, e.g. "[64, 32], seed 2"
  int threads = 1;                // the threads it is given (printed with the label)
  std::string dir;                // the run's folder: its summary is DIR/summary.json, its log DIR.log
  std::vector<std::string> args;  // the program's arguments that make it train this one run
};

// Starts each run as /proc/self/exe with its args (argv[0] `program`), up to `jobs` at once, its
// stdout and stderr into DIR.log; prints "== LABEL -> DIR (T threads, log DIR.log)" to `log` as each
// starts and each finished run's summary.json to `out`. A run that fails stops new ones from
// starting; those running finish. SIGINT and SIGTERM are passed on to the runs (each checkpoints and stops) and no
// new run starts. Returns 0, the first failed run's exit status (128 + signal for one killed) after
// naming its log and last line on `log`, or 128 + the signal that stopped it.
int run_side_by_side(const std::string& program, const std::vector<SideBySideRun>& runs, int jobs, std::ostream& out,
                     std::ostream& log);

}  // namespace dagrad::experiment
