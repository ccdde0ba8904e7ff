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
  bool resume = false;                  // continue out_dir/checkpoint.dagrad (it must exist)
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
// the output directory; nothing partial is left behind if the configuration is bad. The folder is
// written only once training has something to write (config.yaml then comes first), so a run
// refused or failing before then leaves it byte for byte as it was. One run at a time writes into
// a folder (DirectoryLock, held until return): a second one is refused naming the first.
RunOutput run_fit(const RunSpec& spec, std::ostream& log);

}  // namespace dagrad
