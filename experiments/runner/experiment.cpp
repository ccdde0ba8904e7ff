// experiment: runs an experiment described by a YAML file (experiments/<name>/experiment.yaml):
// every run's model file with its training file over N seeds, then the report (results.md with
// mean ± sd over seeds, the published anchors and their verdicts, and the figures). No C++ per
// experiment: a new one is a folder of YAML files.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "experiments/runner/experiment_file.hpp"
#include "experiments/runner/report.hpp"
#include "graph/dnnl_context.hpp"
#include "models/run/run.hpp"

using namespace dagrad;
using namespace dagrad::experiment;

namespace {

const char* kHelp =
    "usage: experiment [run] FILE [--runs a,b] [--seeds N] [--data DIR] [--out DIR] [--results DIR]\n"
    "                  [--set key=value ...] [--resume] [--threads N]\n"
    "       experiment report FILE [--runs a,b] [--seeds N] [--out DIR] [--results DIR]\n"
    "       experiment keys\n\n"
    "run (the default): trains each run of the experiment file (all, or those --runs names) for seeds\n"
    "1..N (the file's `seeds` unless --seeds), seed s setting the file's seed_keys to seed_base + s,\n"
    "into OUT/<experiment>/<run>/seed_<s>/ (default OUT: out), then writes the report into\n"
    "RESULTS/<experiment>/ (default RESULTS: docs/results): results.md and the figures (PNG and SVG).\n"
    "--set applies to every run, after the file's own overrides; --resume continues the runs that have\n"
    "a checkpoint and starts the others. report: only the report, from the\n"
    "histories already in OUT. keys: the keys of an experiment file.\n"
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

int run_or_report(const cli::Args& a, const std::string& file, bool train) {
  ExperimentFile e = load_experiment(file);
  if (a.has("seeds")) e.seeds = static_cast<int>(a.get_int("seeds", 3, 1));
  std::vector<const RunEntry*> runs;
  if (a.has("runs")) {
    for (const auto& n : split_list(a.get("runs"))) {
      const RunEntry* r = e.run(n);
      if (!r) {
        std::vector<std::string> known;
        for (const auto& x : e.runs) known.push_back(x.name);
        throw UserError("--runs: no run '" + n + "' in " + file + did_you_mean(n, known) + " (runs: " + join(known) + ")");
      }
      runs.push_back(r);
    }
    if (runs.empty()) throw UserError("--runs: expected at least one run name, got '" + a.get("runs") + "'");
  } else {
    for (const auto& r : e.runs) runs.push_back(&r);
  }
  const std::string out = a.get("out", "out"), results = a.get("results", "docs/results");
  if (train) {
    for (const RunEntry* r : runs)
      for (int s = 1; s <= e.seeds; ++s) {
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
  std::signal(SIGXFSZ, SIG_IGN);  // past ulimit -f a write fails with EFBIG and is reported
  try {
    check_registrations();
    argc = cli::load_plugins(argc, argv);  // --plugin PATH, DAGRAD_PLUGINS: ops from outside the tree
    init_threads_from_env();
    std::string cmd = "run";
    int shift = 0;
    if (argc > 1 && (std::string(argv[1]) == "run" || std::string(argv[1]) == "report" || std::string(argv[1]) == "keys")) {
      cmd = argv[1];
      shift = 1;
    }
    cli::Args a(argc - shift, argv + shift, {"runs", "seeds", "data", "out", "results", "set", "threads"}, {"resume"});
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
