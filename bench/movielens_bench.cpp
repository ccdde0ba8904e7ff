// movielens_bench: the flagship benchmark. For each MovieLens two-tower configuration it measures,
// in one invocation and each in its own process: training seconds per epoch (median after a
// warm-up), examples/s, the FLOPs of an epoch counted op by op and the compute floor they give at
// the sgemm peak measured in the same process, FactorizedTopK evaluation time, peak resident
// memory and a per-node profile; then the same model in PyTorch (bench/reference/two_tower.py,
// when PyTorch is installed) on the same data and threads; then scaling runs on synthetic data.
// Prints tables and writes everything to a JSON file. Not a test: see docs/performance.md.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/bench_report.hpp"
#include "bench/bench_run.hpp"
#include "bench/bench_util.hpp"
#include "cli/args.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"

using namespace dagrad;
using namespace dagrad::bench;

namespace {

const char* kHelp =
    "usage: movielens_bench [--configs 32,64_32,128_64_32] [--threads 2] [--epochs 7] [--warmup 1]\n"
    "                       [--data DIR] [--json FILE] [--reference auto|off] [--python PATH]\n"
    "                       [--scaling on|off] [--scaling-epochs 3] [--eval-repeats 7] [--set key=value ...]\n\n"
    "Trains each two-tower configuration (experiments/movielens/towers_<c>.yaml with train.yaml) for\n"
    "warmup + epochs epochs in its own process and reports the median epoch, the compute floor, the\n"
    "evaluation time and the peak memory; runs the PyTorch reference (bench/reference/two_tower.py)\n"
    "with the same threads when `python -c 'import torch'` works; then the synthetic scaling runs.\n"
    "Writes the JSON to --json (default movielens_bench.json). Data: --data, else $DAGRAD_DATA.\n"
    "--set applies to every dagrad run as in `dagrad fit` (model.task.precision=bf16 times the bf16\n"
    "products; model.task.fused=false the unfused softmax). --eval-repeats: the timed top-k evaluations\n"
    "and full evaluations, alternating, of each configuration (their medians are reported).\n";

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a command and returns the last stdout line that starts with '{' (its JSON result).
std::string run_json(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw RuntimeFailure("bench: cannot run " + cmd);
  std::string line, last;
  char buf[1 << 16];
  while (std::fgets(buf, sizeof buf, p)) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      if (line[0] == '{') last = line;
      line.clear();
    }
  }
  if (!line.empty() && line[0] == '{') last = line;
  const int status = pclose(p);
  if (status != 0 || last.empty())
    throw RuntimeFailure("bench: '" + cmd + "' failed (status " + std::to_string(status) + ")");
  while (!last.empty() && (last.back() == '\n' || last.back() == '\r')) last.pop_back();
  return last;
}

std::string experiments_dir() {
  if (const char* e = std::getenv("DAGRAD_EXPERIMENTS"); e && *e) return e;
  return std::string(DAGRAD_SOURCE_DIR) + "/experiments/movielens";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

int child(const cli::Args& a) {
  RunRequest r;
  r.config = a.get("config", "64_32");
  r.experiments_dir = experiments_dir();
  r.data_dir = a.get("data");
  r.warmup_epochs = static_cast<int>(a.get_int("warmup", 1, 0));
  r.timed_epochs = static_cast<int>(a.get_int("epochs", 7, 1));
  r.out_dir = a.get("out");
  r.export_dir = a.get("export");
  r.sets = a.all("set");
  r.eval_repeats = static_cast<int>(a.get_int("eval-repeats", 7, 1));
  if (a.has("synthetic")) {
    auto parts = split(a.get("synthetic"), ',');
    if (parts.size() != 2) throw UserError("--synthetic: expected EXAMPLE_SCALE,CANDIDATE_SCALE");
    r.synthetic = true;
    r.synth.example_scale = std::stod(parts[0]);
    r.synth.candidate_scale = std::stod(parts[1]);
    r.full_evaluate = false;
    r.eval_repeats = 3;
  }
  std::cout << run_one(r) << std::endl;
  return 0;
}

bool python_has_torch(const std::string& python) {
  return std::system((shell_quote(python) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
}

int parent(const cli::Args& a) {
  const int threads = num_threads();
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  const auto configs = split(a.get("configs", "32,64_32,128_64_32"), ',');
  const std::string epochs = a.get("epochs", "7"), warmup = a.get("warmup", "1");
  const std::string json_path = a.get("json", "movielens_bench.json");
  const std::string python = a.get("python", "/usr/bin/python3");
  const std::string scratch = (std::filesystem::temp_directory_path() / ("dagrad_bench_" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(scratch);

  std::string common = " --threads " + std::to_string(threads) + " --warmup " + warmup + " --eval-repeats " +
                       std::to_string(a.get_int("eval-repeats", 7, 1));
  if (a.has("data")) common += " --data " + shell_quote(a.get("data"));
  for (const auto& o : a.all("set")) common += " --set " + shell_quote(o);
  const std::string ref_data = scratch + "/reference_data";

  Report report;
  report.threads = threads;
  report.load_before = load_average();
  for (size_t i = 0; i < configs.size(); ++i) {
    std::cerr << "bench: dagrad " << configs[i] << "\n";
    std::string cmd = shell_quote(self) + " --child --config " + configs[i] + " --epochs " + epochs + common +
                      " --out " + shell_quote(scratch + "/run_" + configs[i]);
    if (i == 0) cmd += " --export " + shell_quote(ref_data);
    report.runs.push_back(run_json(cmd));
  }

  const std::string ref_mode = a.get("reference", "auto");
  if (ref_mode != "off") {
    if (python_has_torch(python)) {
      const std::string script = std::string(DAGRAD_SOURCE_DIR) + "/bench/reference/two_tower.py";
      for (const auto& c : configs) {
        std::cerr << "bench: PyTorch reference " << c << "\n";
        std::string units = c;
        std::replace(units.begin(), units.end(), '_', ',');
        report.references.push_back(run_json(shell_quote(python) + " " + shell_quote(script) + " --data " +
                                             shell_quote(ref_data) + " --towers " + units + " --threads " +
                                             std::to_string(threads) + " --epochs " + epochs + " --warmup " + warmup));
      }
    } else {
      report.reference_note = python + " cannot import torch (install python3-torch; scripts/bench.sh does)";
      std::cerr << "bench: no PyTorch reference: " << report.reference_note << "\n";
    }
  }

  if (a.get("scaling", "on") != "off") {
    const std::string se = a.get("scaling-epochs", "3");
    for (const char* spec : {"1,1", "4,1", "16,1", "1,10", "1,100"}) {
      std::cerr << "bench: synthetic scaling (examples x, candidates x) = " << spec << "\n";
      const bool candidates_only = std::string(spec).rfind("1,", 0) == 0 && std::string(spec) != "1,1";
      report.scaling.push_back(run_json(shell_quote(self) + " --child --config 64_32 --synthetic " + spec +
                                        " --epochs " + (candidates_only ? "2" : se) + common + " --out " +
                                        shell_quote(scratch + "/synthetic")));
    }
  }

  report.load_after = load_average();
  std::filesystem::remove_all(scratch);
  if (a.has("set")) {
    std::cout << "\nWith";
    for (const auto& o : a.all("set")) std::cout << " --set " << o;
    std::cout << "\n";
  }
  std::cout << report.table();
  std::ofstream(json_path) << report.json() << "\n";
  std::cerr << "bench: wrote " << json_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  try {
    cli::Args a(argc, argv,
                {"configs", "threads", "epochs", "warmup", "data", "json", "reference", "python", "scaling",
                 "scaling-epochs", "config", "out", "export", "synthetic", "set", "eval-repeats"},
                {"child"});
    if (a.help()) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (a.has("threads")) set_num_threads(a.get_int("threads", 0, 1), "--threads");
    else init_threads_from_env();
    return a.has("child") ? child(a) : parent(a);
  } catch (const UserError& e) {
    std::fprintf(stderr, "movielens_bench: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "movielens_bench: failure: %s\n", e.what());
    return 1;
  }
}
