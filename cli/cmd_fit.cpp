// `dagrad fit`, `dagrad evaluate`, `dagrad describe`: models described in YAML, from the shell.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/files.hpp"
#include "models/dist/mpi_world.hpp"
#include "models/io/archive.hpp"
#include "models/run/run.hpp"

namespace dagrad::cli {
namespace {

const char* kFitHelp =
    "usage: dagrad fit MODEL.yaml [--train FIT.yaml] [--data DIR] [--out DIR] [--set key=value ...]\n"
    "                  [--resume] [--threads N]\n\n"
    "Trains the model described in MODEL.yaml with the training file FIT.yaml (optimizer, batch size,\n"
    "epochs, data, split...). --set overrides any key: fit.epochs=5, data.split.seed=3, and\n"
    "model.layers.query.units=[64,32] for the model file. Writes into DIR (default out/<model name>):\n"
    "config.yaml, history.json, history.csv, checkpoint.dagrad, model.dagrad and summary.json, whose\n"
    "JSON is also the last line printed. --resume continues DIR/checkpoint.dagrad. Ctrl-C writes a\n"
    "checkpoint before exiting (so does SIGTERM), as does every fit.checkpoint_minutes (default 10).\n"
    "Under `mpirun -np N` it trains data-parallel on N ranks, each on fit.batch_size examples of every\n"
    "global batch; rank 0 writes DIR (docs/distributed.md).\n"
    "Exit status: 0 done, 2 bad input, 1 failure, 130 interrupted (143 by SIGTERM).\n";

const char* kEvaluateHelp =
    "usage: dagrad evaluate MODEL.dagrad --train FIT.yaml [--data DIR] [--on test|validation|train]\n"
    "                       [--out DIR] [--set key=value ...] [--threads N]\n\n"
    "Evaluates a trained model on the data and split the training file describes; writes\n"
    "evaluation_<split>.json into DIR (default: the model file's folder; the training run's\n"
    "summary.json there is left as it is) and prints it as the last line. --set changes the\n"
    "training file's keys (data, batch size); the model is the one stored in MODEL.dagrad, so\n"
    "--set model.* is refused.\n";

const char* kDescribeHelp =
    "usage: dagrad describe MODEL.yaml --train FIT.yaml [--data DIR] [--set key=value ...]\n"
    "       dagrad describe MODEL.dagrad\n\n"
    "Prints the model's inputs, preprocessing, task and graph: every node with its shape, parameter\n"
    "count and memory at the training batch size. Preprocessing layers adapt on the data first.\n";

void apply_threads(const Args& a) {
  if (a.has("threads")) set_num_threads(a.get_int("threads", 0, 1), "--threads");
}

RunSpec spec_from(const Args& a) {
  RunSpec s;
  s.model_path = a.positional().at(0);
  s.train_path = a.get("train");
  s.data_dir = a.get("data");
  s.out_dir = a.get("out");
  s.overrides = a.all("set");
  s.resume = a.has("resume");
  return s;
}

}  // namespace

int cmd_fit(int argc, char** argv) {
  Args a(argc, argv, {"train", "data", "out", "set", "threads"}, {"resume"});
  if (a.help()) { std::fputs(kFitHelp, stdout); return 0; }
  if (a.positional().size() != 1) { std::fputs(kFitHelp, stderr); return 2; }
  apply_threads(a);
  // Under mpirun: the world of a data-parallel run. An error on one rank ends every rank (the
  // others would wait for it forever), with the rank and the error; mpirun then exits non-zero.
  std::unique_ptr<MpiWorld> mpi = MpiWorld::join(&argc, &argv);
  if (!mpi) {
    RunOutput out = run_fit(spec_from(a), std::cerr);
    std::cout << out.summary_json << std::endl;
    return out.result.interrupted ? 128 + out.result.signal : 0;
  }
  const bool rank0 = mpi->collective().rank() == 0;
  try {
    std::ostream null(nullptr);  // only rank 0 reports progress
    RunOutput out = run_fit(spec_from(a), rank0 ? std::cerr : null);
    if (rank0) std::cout << out.summary_json << std::endl;
    return out.result.interrupted ? 128 + out.result.signal : 0;
  } catch (const UserError& e) {
    MpiWorld::abort_all(2, std::string("error: ") + e.what());
  } catch (const std::exception& e) {
    MpiWorld::abort_all(1, std::string("error: ") + e.what());
  }
}

int cmd_evaluate(int argc, char** argv) {
  Args a(argc, argv, {"train", "data", "out", "set", "on", "threads"}, {});
  if (a.help()) { std::fputs(kEvaluateHelp, stdout); return 0; }
  if (a.positional().size() != 1 || !a.has("train")) { std::fputs(kEvaluateHelp, stderr); return 2; }
  apply_threads(a);
  RunSpec spec = spec_from(a);
  std::string model_file = spec.model_path;
  auto model = Model::load(model_file);
  // The training file gives the data and split; the model file's path stands in for the model.
  // The model is the stored one: a --set model.* would change nothing, silently.
  for (const auto& o : spec.overrides)
    if (o.rfind("model.", 0) == 0)
      throw UserError("--set " + o + ": evaluate uses the model stored in " + model_file +
                      ", whose model file cannot be changed; only the training file's keys (data.*, fit.*) can be set");
  ConfigNode train = load_config(spec.train_path, spec.overrides);
  FitOptions opts = FitOptions::from_config(train.at("fit"));
  std::string on = a.get("on", opts.evaluate_on);
  if (on != "test" && on != "validation" && on != "train") throw UserError("--on: expected test, validation or train, got '" + on + "'");
  std::string dir = spec.out_dir.empty() ? std::filesystem::path(model_file).parent_path().string() : spec.out_dir;
  if (dir.empty()) dir = ".";
  check_writable_dir(dir);  // before the work; the folder itself is made only when there is a result
  DataTables data;
  load_data(train.at("data"), spec.data_dir, data);
  if (data.by_name(on).rows() == 0)
    throw UserError("--on " + on + ": the " + on + " split of " + spec.train_path + "'s data has no rows, so there is nothing "
                    "to evaluate (data.split sets the fractions)");
  auto t0 = std::chrono::steady_clock::now();
  FitResult r;
  for (const auto& [k, v] : evaluate(*model, data.by_name(on), data, opts.batch_size)) r.final_metrics.push_back({on + "_" + k, v});
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ensure_writable_dir(dir);
  DirectoryLock lock(dir);  // not while a fit writes there
  remove_stale_temporaries(dir);
  // Its own file: the training run's summary.json beside the model stays as training wrote it.
  std::cout << write_summary(dir, model->name(), r, "evaluation_" + on + ".json") << std::endl;
  return 0;
}

int cmd_describe(int argc, char** argv) {
  Args a(argc, argv, {"train", "data", "set", "threads"}, {});
  if (a.help()) { std::fputs(kDescribeHelp, stdout); return 0; }
  if (a.positional().size() != 1) { std::fputs(kDescribeHelp, stderr); return 2; }
  RunSpec spec = spec_from(a);
  if (spec.model_path.size() > 7 && spec.model_path.ends_with(".dagrad")) {
    std::cout << Model::load(spec.model_path)->summary(1);
    return 0;
  }
  RunSetup s = prepare_run(spec);
  auto m = Model::build(s.model_cfg, &s.data, nullptr, s.options.seed);
  std::cout << m->summary(s.options.batch_size);
  return 0;
}

}  // namespace dagrad::cli
