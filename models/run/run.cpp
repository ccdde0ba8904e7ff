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

// The first place where two model files differ ("layers.query.units: '32' in the model file, '64'
// in the checkpoint's"), or empty; the training sections a model file may hold are not compared.
std::string first_difference(const ConfigNode& a, const ConfigNode& b) {
  const std::string at = a.path().empty() ? "the top level" : a.path();
  if (a.is_map() != b.is_map() || a.is_list() != b.is_list() || a.is_scalar() != b.is_scalar() || a.is_null() != b.is_null())
    return at + ": " + a.describe() + " in the model file, " + b.describe() + " in the checkpoint";
  if (a.is_map()) {
    // At the top, a model file may also hold the training file's sections: not the model.
    auto training = [&](const std::string& k) { return a.path().empty() && (k == "fit" || k == "data"); };
    for (const auto& k : a.keys()) {
      if (training(k)) continue;
      if (!b.has(k)) return (a.path().empty() ? k : a.path() + "." + k) + ": in the model file, not in the checkpoint's";
      if (std::string d = first_difference(a.at(k), b.at(k)); !d.empty()) return d;
    }
    for (const auto& k : b.keys())
      if (!training(k) && !a.has(k)) return (a.path().empty() ? k : a.path() + "." + k) + ": in the checkpoint's model file, not in this one";
    return "";
  }
  if (a.is_list()) {
    const auto x = a.elements(), y = b.elements();
    if (x.size() != y.size())
      return at + ": " + std::to_string(x.size()) + " items in the model file, " + std::to_string(y.size()) + " in the checkpoint's";
    for (size_t i = 0; i < x.size(); ++i)
      if (std::string d = first_difference(x[i], y[i]); !d.empty()) return d;
    return "";
  }
  if (a.is_scalar() && a.as_string() != b.as_string())
    return at + ": '" + a.as_string() + "' in the model file, '" + b.as_string() + "' in the checkpoint's";
  return "";
}

// A checkpoint resumes only the model it was written for: the model file (with its --set model.*
// values) must be the one stored in the checkpoint, or the run would continue another model's
// training under this one's name (the same layer names and sizes load without complaint).
void check_same_model(const ArchiveReader& ck, const ConfigNode& model_cfg, const std::string& model_path) {
  if (!ck.has("model/config")) throw UserError(ck.path() + ": not a dagrad checkpoint (no model/config entry)");
  const ConfigNode stored = parse_config(ck.text("model/config"), ck.path() + " (its stored model file)");
  const std::string where = first_difference(model_cfg, stored);
  if (where.empty()) return;
  throw UserError(ck.path() + ": written for another model than " + model_path + " (" + where +
                  "); resume with the model file (and --set model.* values) the checkpoint was written with, or "
                  "train into another --out");
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
  if (spec.resume) {
    // --resume continues a run; with nothing to continue it is an error rather than a silent
    // fresh start (a mistyped --out would otherwise train from scratch unnoticed).
    if (!std::filesystem::exists(ck))
      throw UserError("--resume: " + ck + " does not exist, so there is no run to continue (leave out --resume to start a "
                      "new run in " + s.out_dir + ")");
    resume = std::make_unique<ArchiveReader>(ck);
  }
  RunOutput out;
  out.model = Model::build(s.model_cfg, &s.data, resume.get(), s.options.seed);  // all checks before any write
  if (resume) check_same_model(*resume, s.model_cfg, spec.model_path);
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
