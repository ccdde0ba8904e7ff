// One training run from files: the model file and the training file (with includes and --set
// overrides), the data they name, a fit, and summary.json. Shared by `dagrad fit` and the
// experiment binaries, which loop over configurations and seeds.
#pragma once
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "models/fit/fitter.hpp"

namespace dagrad {

struct RunSpec {
  std::string model_path;               // YAML model file
  std::string train_path;               // YAML training file; empty: `fit`/`data` in the model file
  std::string data_dir;                 // --data; empty: the data source's default
  std::string out_dir;                  // empty: out/<model name>
  std::vector<std::string> overrides;   // "fit.epochs=5"; "model.<key>=..." goes to the model file
  bool resume = false;                  // continue out_dir/checkpoint.dagrad (an error when there is none)
  bool resume_optional = false;         // with resume: start afresh when there is no checkpoint
};

// The loaded configuration and data of a run, before training.
struct RunSetup {
  ConfigNode model_cfg, train_cfg;
  DataTables data;
  FitOptions options;
  std::string out_dir;
};

RunSetup prepare_run(const RunSpec& spec);

struct RunOutput {
  FitResult result;
  std::string summary_json;
  std::unique_ptr<Model> model;
};

// Fits, writes the effective configuration (config.yaml), history, model and summary.json into
// the output directory. Everything is checked before the first write (the files, the data, a
// checkpoint to resume and that it belongs to this model), and the folder is written only once
// training has something to write: a run that is refused or fails before then leaves it byte for
// byte as it was. At its first write a run takes the folder: it writes config.yaml and, when it
// does not resume, removes the previous run's files (model, checkpoint, history, summary), so
// that the folder never mixes two runs. One run at a time writes into a folder (DirectoryLock):
// a second one is refused.
RunOutput run_fit(const RunSpec& spec, std::ostream& log);

// The model file a checkpoint (or model archive) was written from must be `model_cfg` (its name,
// inputs, layers and task; a `fit` or `data` section may differ): UserError naming the file and
// the first difference otherwise.
void check_same_model(const ArchiveReader& saved, const ConfigNode& model_cfg);

}  // namespace dagrad
