// The benchmark's report: the children's JSON results turned into markdown tables (the headline
// table, the per-node profile of each configuration, the scaling runs) and one JSON document.
#pragma once
#include <string>
#include <vector>

namespace dagrad::bench {

struct Report {
  int threads = 1;
  std::string load_before, load_after;     // /proc/loadavg when the bench started and ended
  std::vector<std::string> runs;           // one JSON line per configuration (run_one)
  std::vector<std::string> references;     // one JSON line per configuration (two_tower.py)
  std::string reference_note;              // why there is no reference, if there is none
  std::vector<std::string> scaling;        // run_one on synthetic data

  std::string table() const;
  std::string json() const;
};

// First line of /proc/loadavg, and the CPU model name from /proc/cpuinfo.
std::string load_average();
std::string cpu_model();  // with cpu_isa() appended
// The instruction set the fused softmax's loops use here, and whether bf16 is available.
std::string cpu_isa();

}  // namespace dagrad::bench
