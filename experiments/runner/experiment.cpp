// experiment: runs an experiment described by a YAML file (experiments/<name>/experiment.yaml):
// every run's model file with its training file over N seeds, then the report (results.md with
// mean ± sd over seeds, the published anchors and their verdicts, and the figures). No C++ per
// experiment: a new one is a folder of YAML files.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "experiments/common/side_by_side.hpp"
#include "experiments/runner/experiment_file.hpp"
#include "experiments/runner/report.hpp"
#include "graph/dnnl_context.hpp"
#include "models/run/run.hpp"

using namespace dagrad;
using namespace dagrad::experiment;

namespace {

const char* kHelp =
    "usage: experiment [run] FILE [--runs a,b] [--seeds N] [--data DIR] [--out DIR] [--results DIR]\n"
    "                  [--set key=value ...] [--resume] [--threads N] [--jobs N]\n"
    "       experiment report FILE [--runs a,b] [--seeds N] [--out DIR] [--results DIR]\n"
    "       experiment keys\n\n"
    "run (the default): trains each run of the experiment file (all, or those --runs names) for seeds\n"
    "1..N (the file's `seeds` unless --seeds), seed s setting the file's seed_keys to seed_base + s,\n"
    "into OUT/<experiment>/<run>/seed_<s>/ (default OUT: out), then writes the report into\n"
    "RESULTS/<experiment>/ (default RESULTS: docs/results): results.md and the figures (PNG and SVG).\n"
    "--set applies to every run, after the file's own overrides; --resume continues the runs that have\n"
    "a checkpoint and starts the others. --jobs N trains up to N runs at once, each its own process with\n"
    "threads / N threads and its log in OUT/<experiment>/<run>/seed_<s>.log (on 2 cores two runs side by\n"
    "side with a thread each beat one at a time with both: docs/performance.md). report: only the report,\n"
    "from the histories already in OUT. keys: the keys of an experiment file.\n"
    "Prints one line per anchor (reproduced, beaten, NOT met, or missing).\n"
    "Plugins (ops from outside the tree): --plugin PATH (repeatable) or DAGRAD_PLUGINS=PATH[:PATH...].\n"
    "Data: --data, else $DAGRAD_DATA, else the data source's default.\n";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void print_schema(const std::string& title, const Schema& s) {
  std::cout << title << ":\n";
  for (const auto& k : s.keys()) {
    std::cout << "  " << k.name() << ": " << k.kind_text();
    if (k.is_required()) std::cout << ", required";
    else if (!k.default_text().empty()) std::cout << ", default " << k.default_text();
    std::cout << "\n      " << k.doc() << "\n";
  }
}

// The --plugin arguments the program was started with, for the runs it starts (--jobs).
std::vector<std::string> g_plugin_args;

int run_or_report(const cli::Args& a, const std::string& file, bool train) {
  ExperimentFile e = load_experiment(file);
  if (a.has("seeds")) e.seeds = static_cast<int>(a.get_int("seeds", 3, 1));
  std::vector<const RunEntry*> runs;
  auto find_run = [&](const std::string& n, const std::string& flag) {
    const RunEntry* r = e.run(n);
    if (!r) {
      std::vector<std::string> known;
      for (const auto& x : e.runs) known.push_back(x.name);
      throw UserError(flag + ": no run '" + n + "' in " + file + did_you_mean(n, known) + " (runs: " + join(known) + ")");
    }
    return r;
  };
  if (a.has("runs")) {
    for (const auto& n : split_list(a.get("runs"))) runs.push_back(find_run(n, "--runs"));
    if (runs.empty()) throw UserError("--runs: expected at least one run name, got '" + a.get("runs") + "'");
  } else {
    for (const auto& r : e.runs) runs.push_back(&r);
  }
  // --only RUN:SEED (how --jobs starts each run): that one run, no report.
  int only_seed = 0;
  if (a.has("only")) {
    const std::string o = a.get("only");
    const auto colon = o.rfind(':');
    if (colon == std::string::npos || !train) throw UserError("--only " + o + ": expected RUN:SEED with run");
    try {
      size_t used = 0;
      only_seed = std::stoi(o.substr(colon + 1), &used);
      if (used != o.size() - colon - 1 || only_seed < 1) throw std::invalid_argument(o);
    } catch (const std::exception&) {
      throw UserError("--only " + o + ": expected RUN:SEED with a seed of 1 or more");
    }
    if (only_seed > e.seeds)
      throw UserError("--only " + o + ": seed " + std::to_string(only_seed) + " of " + std::to_string(e.seeds));
    runs = {find_run(o.substr(0, colon), "--only")};
  }
  const int64_t jobs = a.get_int("jobs", 1, 1);
  if (jobs > 512) throw UserError("--jobs: expected 1 to 512 runs at once, got " + std::to_string(jobs));
  const std::string out = a.get("out", "out"), results = a.get("results", "docs/results");
  if (train && jobs > 1 && !a.has("only")) {
    const int threads = std::max(1, num_threads() / static_cast<int>(jobs));
    std::vector<SideBySideRun> todo;
    for (const RunEntry* r : runs)
      for (int s = 1; s <= e.seeds; ++s) {
        SideBySideRun run;
        run.label = e.name + ": " + r->label + ", seed " + std::to_string(s) + "/" + std::to_string(e.seeds);
        run.threads = threads;
        run.dir = run_dir(out, e, *r, s);
        run.args = {"run", file, "--only", r->name + ":" + std::to_string(s), "--seeds", std::to_string(e.seeds),
                    "--out", out, "--threads", std::to_string(threads)};
        if (a.has("data")) run.args.insert(run.args.end(), {"--data", a.get("data")});
        for (const auto& o : a.all("set")) run.args.insert(run.args.end(), {"--set", o});
        if (a.has("resume")) run.args.push_back("--resume");
        run.args.insert(run.args.end(), g_plugin_args.begin(), g_plugin_args.end());
        todo.push_back(std::move(run));
      }
    if (int rc = run_side_by_side("experiment", todo, static_cast<int>(jobs), std::cout, std::cerr); rc != 0) return rc;
  } else if (train) {
    for (const RunEntry* r : runs)
      for (int s = 1; s <= e.seeds; ++s) {
        if (only_seed && s != only_seed) continue;
        RunSpec spec;
        spec.model_path = r->model;
        spec.train_path = r->train;
        spec.data_dir = a.get("data");
        spec.out_dir = run_dir(out, e, *r, s);
        for (const auto& k : e.seed_keys) spec.overrides.push_back(k + "=" + std::to_string(e.seed_base + s));
        for (const auto& o : e.set) spec.overrides.push_back(o);
        for (const auto& o : r->set) spec.overrides.push_back(o);
        for (const auto& o : a.all("set")) spec.overrides.push_back(o);
        // --resume continues each run that has a checkpoint and starts the others.
        spec.resume = a.has("resume") && std::filesystem::exists(spec.out_dir + "/checkpoint.dagrad");
        std::cerr << "== " << e.name << ": " << r->label << ", seed " << s << "/" << e.seeds << " -> " << spec.out_dir << "\n";
        RunOutput o = run_fit(spec, std::cerr);
        std::cout << o.summary_json << std::endl;
        if (o.result.interrupted) return 128 + o.result.signal;
      }
    if (only_seed) return 0;
  }
  std::string command = "build/experiments/experiment report " + file + " --seeds " + std::to_string(e.seeds);
  if (a.has("runs")) command += " --runs " + a.get("runs");
  if (a.has("out")) command += " --out " + out;
  if (a.has("results")) command += " --results " + results;
  auto verdicts = write_report(e, runs, out, results, command);
  int met = 0;
  for (const auto& v : verdicts) {
    std::cout << "anchor: " << v.text << "\n";
    met += v.met;
  }
  std::cerr << "report: " << results << "/" << e.name << "/results.md; anchors met: " << met << " of " << verdicts.size()
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  std::signal(SIGXFSZ, SIG_IGN);  // past ulimit -f a write fails with EFBIG and is reported
  try {
    check_registrations();
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--") break;
      if (arg == "--plugin" && i + 1 < argc) g_plugin_args.insert(g_plugin_args.end(), {arg, argv[++i]});
      else if (arg.rfind("--plugin=", 0) == 0) g_plugin_args.push_back(arg);
    }
    argc = cli::load_plugins(argc, argv);  // --plugin PATH, DAGRAD_PLUGINS: ops from outside the tree
    init_threads_from_env();
    std::string cmd = "run";
    int shift = 0;
    if (argc > 1 && (std::string(argv[1]) == "run" || std::string(argv[1]) == "report" || std::string(argv[1]) == "keys")) {
      cmd = argv[1];
      shift = 1;
    }
    cli::Args a(argc - shift, argv + shift, {"runs", "seeds", "data", "out", "results", "set", "threads", "jobs", "only"},
                {"resume"});
    if (a.help()) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (cmd == "keys") {
      print_schema("An experiment file", experiment_schema());
      print_schema("Each of `runs`", run_schema());
      print_schema("Each of `metrics`", metric_schema());
      print_schema("Each of `anchors`", anchor_schema());
      print_schema("Each of `figures`", figure_schema());
      return 0;
    }
    if (a.positional().size() != 1)
      throw UserError("expected one experiment file (experiments/<name>/experiment.yaml), got " +
                      std::to_string(a.positional().size()) + " arguments; see --help");
    if (a.has("threads")) set_num_threads(a.get_int("threads", 0, 1), "--threads");
    return run_or_report(a, a.positional()[0], cmd == "run");
  } catch (const UserError& e) {
    std::fprintf(stderr, "experiment: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "experiment: failure: %s\n", e.what());
    return 1;
  }
}
