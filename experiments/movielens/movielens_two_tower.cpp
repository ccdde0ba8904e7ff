// movielens_two_tower: the flagship experiment. Trains the TFRS two-tower configurations on
// MovieLens-100k over several seeds, writes each run's history and summary, and draws the
// figures and the table into docs/results/. Also serves a trained model (recommend, export).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "experiments/common/side_by_side.hpp"
#include "experiments/movielens/report.hpp"
#include "experiments/movielens/serve.hpp"
#include "graph/dnnl_context.hpp"
#include "models/run/run.hpp"

using namespace dagrad;

namespace {

// The reference's three tower configurations, and towers [64, 32] with the sampling-bias correction.
const char* kDefaultConfigs = "32,64_32,128_64_32,corrected_64_32";

const char* kHelp =
    "usage: movielens_two_tower [train] [--configs 32,64_32,128_64_32,corrected_64_32] [--seeds N] [--data DIR]\n"
    "                           [--out DIR] [--results DIR] [--set key=value ...] [--resume] [--threads N] [--jobs N]\n"
    "       movielens_two_tower report [--configs ...] [--seeds N] [--out DIR] [--results DIR]\n"
    "       movielens_two_tower recommend --model FILE --user ID [--k 10] [--timestamp T] [--exclude-rated] [--data DIR]\n"
    "       movielens_two_tower export --model FILE --to FILE|DIR [--format tsv|bin|npy] [--data DIR]\n\n"
    "train (the default): for each configuration (experiments/movielens/towers_<name>.yaml, or\n"
    "experiments/movielens/<name>.yaml) and each seed 1..N (split and initialisation seed 41+i),\n"
    "trains with experiments/movielens/train.yaml into OUT/<config>/seed_<s>/ (default out/movielens),\n"
    "then writes the report. report: only the figures top_<k>.png/.svg and results.md into RESULTS\n"
    "(default docs/results) from the histories already in OUT. --resume continues the runs that have\n"
    "a checkpoint and starts the others.\n"
    "--jobs N runs up to N of the runs at once, each its own process with threads / N threads and its\n"
    "log in OUT/<config>/seed_<s>.log (on 2 cores --jobs 2 was 1.5x faster than one run at a time: docs/performance.md).\n"
    "Data: --data, else $DAGRAD_DATA, else ./data/ml-100k (get it with scripts/get_movielens.sh).\n";

std::string experiments_dir() {
  if (const char* e = std::getenv("DAGRAD_EXPERIMENTS"); e && *e) return e;
  return std::string(DAGRAD_SOURCE_DIR) + "/experiments/movielens";
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string model_file(const std::string& config) {
  std::string dir = experiments_dir();
  for (const auto& candidate : {dir + "/towers_" + config + ".yaml", dir + "/" + config + ".yaml"})
    if (std::filesystem::exists(candidate)) return candidate;
  throw UserError("no configuration '" + config + "' (looked for " + dir + "/towers_" + config + ".yaml and " + dir + "/" +
                  config + ".yaml)");
}

std::string label_of(const std::string& config) {
  if (config.rfind("corrected_", 0) == 0) return label_of(config.substr(10)) + " + logQ correction";
  if (config.find_first_not_of("0123456789_") != std::string::npos) return config;
  std::string l = "[";
  for (char c : config) l += c == '_' ? std::string(", ") : std::string(1, c);
  return l + "]";
}

// A folder flag (--out, --results) that names a symbolic link: the runs or the report would go
// wherever it points.
void check_not_link(const std::string& flag, const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p(dir);
  while (!p.empty() && p.filename().empty() && p != p.parent_path()) p = p.parent_path();
  if (std::filesystem::is_symlink(p, ec))
    throw UserError(flag + " " + dir + ": is a symbolic link (to " + std::filesystem::read_symlink(p, ec).string() +
                    "); give the folder itself");
}

// --jobs N: the runs as separate processes of this program (`--only CONFIG:SEED`), up to N at once,
// each with threads / N threads (at least 1) and its output in DIR.log beside its run folder
// (experiment::run_side_by_side).
int train_side_by_side(const cli::Args& a, const std::vector<std::pair<std::string, int>>& todo, const std::string& out,
                       int jobs) {
  const int threads = std::max(1, num_threads() / jobs);
  std::vector<std::string> passed;
  for (const char* key : {"data", "seeds"})
    if (a.has(key)) passed.insert(passed.end(), {std::string("--") + key, a.get(key)});
  for (const auto& o : a.all("set")) passed.insert(passed.end(), {"--set", o});
  if (a.has("resume")) passed.push_back("--resume");
  std::vector<experiment::SideBySideRun> runs;
  for (const auto& [config, seed] : todo) {
    experiment::SideBySideRun r;
    r.label = label_of(config) + ", seed " + std::to_string(seed);
    r.threads = threads;
    r.dir = out + "/" + config + "/seed_" + std::to_string(seed);
    r.args = {"train", "--only", config + ":" + std::to_string(seed), "--out", out, "--threads", std::to_string(threads)};
    r.args.insert(r.args.end(), passed.begin(), passed.end());
    runs.push_back(std::move(r));
  }
  return experiment::run_side_by_side("movielens_two_tower", runs, jobs, std::cout, std::cerr);
}

int train_or_report(const cli::Args& a, bool train) {
  auto configs = split_list(a.get("configs", kDefaultConfigs));
  if (configs.empty())
    throw UserError("--configs '" + a.get("configs", "") + "': no configuration named (a comma-separated list such as " +
                    kDefaultConfigs + ")");
  const int64_t seeds_given = a.get_int("seeds", 3, 1);
  if (seeds_given > 1000) throw UserError("--seeds: expected 1 to 1000, got " + std::to_string(seeds_given));
  const int seeds = static_cast<int>(seeds_given);
  std::string out = a.get("out", "out/movielens");
  std::string results = a.get("results", "docs/results");
  check_not_link("--out", out);
  check_not_link("--results", results);
  // --only CONFIG:SEED (how --jobs starts each run): that one run, no report.
  std::string only_config;
  int only_seed = 0;
  if (a.has("only")) {
    const std::string o = a.get("only");
    const auto colon = o.rfind(':');
    if (colon == std::string::npos || !train) throw UserError("--only " + o + ": expected CONFIG:SEED with train");
    only_config = o.substr(0, colon);
    try {
      only_seed = std::stoi(o.substr(colon + 1));
    } catch (const std::exception&) {
      throw UserError("--only " + o + ": expected CONFIG:SEED with a whole-number seed");
    }
    configs = {only_config};
  }
  const int64_t jobs_given = a.get_int("jobs", 1, 1);
  if (jobs_given > 512) throw UserError("--jobs: expected 1 to 512 runs at once, got " + std::to_string(jobs_given));
  const int jobs = static_cast<int>(jobs_given);
  if (train && jobs > 1 && !a.has("only")) {
    std::vector<std::pair<std::string, int>> todo;
    for (const auto& c : configs) {
      model_file(c);  // an unknown configuration is refused before any run starts
      for (int s = 1; s <= seeds; ++s) todo.emplace_back(c, s);
    }
    if (int rc = train_side_by_side(a, todo, out, jobs); rc != 0) return rc;
    return train_or_report(a, false);
  }
  std::vector<movielens::ConfigRuns> runs;
  // Every configuration is looked up before the first run trains.
  for (const auto& c : configs) (void)model_file(c);
  for (const auto& c : configs) {
    movielens::ConfigRuns r{c, label_of(c), {}};
    std::string model = model_file(c);
    for (int s = 1; s <= seeds; ++s) {
      if (only_seed && s != only_seed) continue;
      std::string dir = out + "/" + c + "/seed_" + std::to_string(s);
      r.run_dirs.push_back(dir);
      if (!train) continue;
      RunSpec spec;
      spec.model_path = model;
      spec.train_path = experiments_dir() + "/train.yaml";
      spec.data_dir = a.get("data");
      spec.out_dir = dir;
      spec.overrides = {"fit.seed=" + std::to_string(41 + s), "data.split.seed=" + std::to_string(41 + s)};
      for (const auto& o : a.all("set")) spec.overrides.push_back(o);
      // --resume continues each run that has a checkpoint and starts the others (runs not reached
      // when the command was stopped); a single `dagrad fit --resume` needs its checkpoint.
      spec.resume = a.has("resume") && std::filesystem::exists(dir + "/checkpoint.dagrad");
      std::cerr << "== " << r.label << ", seed " << s << "/" << seeds << " -> " << dir << "\n";
      RunOutput o = run_fit(spec, std::cerr);
      std::cout << o.summary_json << std::endl;
      if (o.result.interrupted) return 128 + o.result.signal;
    }
    runs.push_back(r);
  }
  if (only_seed) return 0;
  std::string command = "build/experiments/movielens_two_tower report --configs " + a.get("configs", kDefaultConfigs) +
                        " --seeds " + std::to_string(seeds) + " --out " + out + " --results " + results;
  movielens::write_report(runs, {1, 5, 10, 50, 100}, results, command);
  std::cerr << "report: " << results << "/results.md and top_<k>.png, top_<k>.svg\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dagrad::prefer_passive_omp_wait(argv);  // first: it may execute the program again
  std::signal(SIGXFSZ, SIG_IGN);  // past ulimit -f a write fails with EFBIG and is reported
  try {
    check_registrations();
    init_threads_from_env();
    std::string cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : "train";
    int shift = argc > 1 && argv[1][0] != '-' ? 1 : 0;
    cli::Args a(argc - shift, argv + shift,
                {"configs", "seeds", "data", "out", "results", "set", "threads", "jobs", "only", "model", "user", "k", "timestamp",
                 "to", "format"},
                {"resume", "exclude-rated"});
    if (a.help()) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (a.has("threads")) set_num_threads(a.get_int("threads", 0, 1), "--threads");
    if (cmd == "train") return train_or_report(a, true);
    if (cmd == "report") return train_or_report(a, false);
    if (cmd == "recommend") return movielens::recommend(a);
    if (cmd == "export") return movielens::export_embeddings(a);
    std::fprintf(stderr, "movielens_two_tower: unknown command '%s'\n\n%s", cmd.c_str(), kHelp);
    return 2;
  } catch (const UserError& e) {
    std::fprintf(stderr, "movielens_two_tower: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "movielens_two_tower: failure: %s\n", e.what());
    return 1;
  }
}
