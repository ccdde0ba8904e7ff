#include "models/run/run.hpp"

#include <algorithm>
#include <filesystem>
#include <ostream>

#include "graph/collective.hpp"
#include "graph/files.hpp"

namespace dagrad {
namespace {

// The model's name names its default output folder (out/NAME): it must be one plain path
// component, never a way out of out/ (`../../x`) or into a sub-folder.
void check_model_name(const ConfigNode& model_cfg) {
  if (!model_cfg.has("name")) return;
  const ConfigNode name = model_cfg.at("name");
  const std::string n = model_cfg.get_string("name", "");
  const bool control = std::any_of(n.begin(), n.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  if (n.empty() || n == "." || n.find("..") != std::string::npos || n.find('/') != std::string::npos ||
      n.find('\\') != std::string::npos || control)
    name.fail("'" + n + "' cannot be a model's name: the name is also its output folder (out/NAME), so it may not "
              "be empty or hold '/', '\\', '..' or control characters");
}

}  // namespace

RunSetup prepare_run(const RunSpec& spec) {
  std::vector<std::string> model_over, train_over;
  for (const auto& o : spec.overrides) {
    if (o.rfind("model.", 0) == 0) model_over.push_back(o.substr(6));
    else train_over.push_back(o);
  }
  if (!std::filesystem::exists(spec.model_path)) throw UserError(spec.model_path + ": no such model file");
  ConfigNode model_cfg = load_config(spec.model_path, model_over);
  check_model_name(model_cfg);
  std::string train_path = spec.train_path;
  if (train_path.empty()) {
    if (!model_cfg.has("fit"))
      throw UserError(spec.model_path + ": no training file given (--train FIT.yaml) and no 'fit' section in the model file");
    train_path = spec.model_path;
  } else if (!std::filesystem::exists(train_path)) {
    throw UserError(train_path + ": no such training file");
  }
  RunSetup s{model_cfg, load_config(train_path, train_over), {}, {}, {}};
  s.train_cfg.check_keys({"data", "fit", "name", "inputs", "layers", "task"});
  s.options = FitOptions::from_config(s.train_cfg.at("fit"));
  load_data(s.train_cfg.at("data"), spec.data_dir, s.data);
  s.out_dir = spec.out_dir.empty() ? "out/" + s.model_cfg.get_string("name", "model") : spec.out_dir;
  return s;
}

RunOutput run_fit(const RunSpec& spec, std::ostream& log) {
  RunSetup s = prepare_run(spec);
  // In a data-parallel run (graph/collective.hpp) rank 0 alone writes; every rank reads the
  // checkpoint it resumes (out_dir on storage they share).
  Collective* world = distributed();
  const bool writer = !world || world->rank() == 0;
  if (writer) check_writable_dir(s.out_dir);  // before the model adapts on the data, and long before training
  // One run at a time writes into a folder: taken now when the folder exists, so that a second run
  // is refused before it does any work, else as soon as the folder is made.
  DirectoryLock lock;
  std::error_code ec;
  if (writer && std::filesystem::is_directory(s.out_dir, ec)) lock = DirectoryLock(s.out_dir);
  const std::string ck = s.out_dir + "/checkpoint.dagrad";
  std::unique_ptr<ArchiveReader> resume;
  if (spec.resume && std::filesystem::exists(ck)) resume = std::make_unique<ArchiveReader>(ck);
  RunOutput out;
  out.model = Model::build(s.model_cfg, &s.data, resume.get(), s.options.seed);  // all checks before any write
  check_fit_inputs(*out.model, s.data);
  if (writer) {
    ensure_writable_dir(s.out_dir);
    if (!lock.held()) lock = DirectoryLock(s.out_dir);
  }
  // The folder is changed only when the run has something to write (a checkpoint, a history, the
  // model): a run refused or failing before then (a checkpoint of another optimizer, a NaN loss in
  // the first steps) leaves an existing run's config.yaml matching the files beside it.
  bool claimed = false;
  auto claim = [&] {
    claimed = true;
    if (int n = remove_stale_temporaries(s.out_dir))
      log << "removed " << n << " temporary file" << (n == 1 ? "" : "s") << " left in " << s.out_dir
          << " by an earlier run that was killed\n";
    write_file_atomic(s.out_dir + "/config.yaml", "# model\n" + to_yaml(s.model_cfg) + "\n# training\n" + to_yaml(s.train_cfg));
  };
  out.result = fit(*out.model, s.data, s.options, s.out_dir, resume.get(), log, claim);
  if (!writer) return out;
  if (!claimed) claim();
  out.summary_json = write_summary(s.out_dir, out.model->name(), out.result);
  return out;
}

}  // namespace dagrad
