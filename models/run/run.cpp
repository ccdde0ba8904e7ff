#include "models/run/run.hpp"

#include <filesystem>
#include <ostream>
#include <sstream>

namespace dagrad {
namespace {

// The parts of a model file that make the model, as YAML text: name, inputs, layers and task.
std::string model_part(const ConfigNode& cfg) {
  std::string out;
  for (const char* key : {"name", "inputs", "layers", "task"})
    out += std::string(key) + ":\n" + (cfg.has(key) ? to_yaml(cfg.at(key)) : "~\n");
  return out;
}

// The files a run writes into its folder (config.yaml aside).
const char* const kRunFiles[] = {"model.dagrad", "checkpoint.dagrad", "history.json", "history.csv", "summary.json"};

}  // namespace

void check_same_model(const ArchiveReader& saved, const ConfigNode& model_cfg) {
  if (!saved.has("model/config")) throw UserError(saved.path() + ": not a dagrad model or checkpoint (no model/config entry)");
  const ConfigNode stored = parse_config(saved.text("model/config"), saved.path() + " (its stored model file)");
  const std::string a = model_part(stored), b = model_part(model_cfg);
  if (a == b) return;
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  while (true) {
    const bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga || !gb || la != lb) {
      throw UserError(saved.path() + ": was written by another model than " + model_cfg.origin().file +
                      " describes; first difference: '" + (ga ? la : "(nothing)") + "' in the checkpoint, '" +
                      (gb ? lb : "(nothing)") + "' in the model file. A run continues with the model it started with");
    }
  }
}

RunSetup prepare_run(const RunSpec& spec) {
  std::vector<std::string> model_over, train_over;
  for (const auto& o : spec.overrides) {
    if (o.rfind("model.", 0) == 0) model_over.push_back(o.substr(6));
    else train_over.push_back(o);
  }
  if (!std::filesystem::exists(spec.model_path)) throw UserError(spec.model_path + ": no such model file");
  ConfigNode model_cfg = load_config(spec.model_path, model_over);
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
  namespace fs = std::filesystem;
  RunSetup s = prepare_run(spec);
  check_writable_dir(s.out_dir);  // before the model adapts on the data, and long before training
  std::error_code ec;
  DirectoryLock lock;  // taken now when the folder exists, so that a second run is refused early
  if (fs::is_directory(s.out_dir, ec)) lock = DirectoryLock(s.out_dir);
  const std::string ck = s.out_dir + "/checkpoint.dagrad";
  std::unique_ptr<ArchiveReader> resume;
  if (spec.resume) {
    if (fs::exists(fs::symlink_status(ck, ec))) {
      resume = std::make_unique<ArchiveReader>(ck);
      check_same_model(*resume, s.model_cfg);
    } else if (!spec.resume_optional) {
      throw UserError("--resume: " + s.out_dir + " has no checkpoint.dagrad to continue (without --resume, fit starts a new run there)");
    }
  }
  RunOutput out;
  out.model = Model::build(s.model_cfg, &s.data, resume.get(), s.options.seed);  // all checks before any write
  check_fit_inputs(*out.model, s.data, s.options);
  ensure_writable_dir(s.out_dir);
  if (!lock.held()) lock = DirectoryLock(s.out_dir);
  const std::string config_text = "# model\n" + to_yaml(s.model_cfg) + "\n# training\n" + to_yaml(s.train_cfg);
  bool claimed = false;
  auto claim = [&] {
    claimed = true;
    if (int n = remove_stale_temporaries(s.out_dir))
      log << "removed " << n << " temporary file" << (n == 1 ? "" : "s") << " left in " << s.out_dir
          << " by an earlier run that was killed\n";
    if (!resume)
      for (const char* f : kRunFiles) {
        const fs::path p = fs::path(s.out_dir) / f;
        if (fs::is_regular_file(fs::symlink_status(p, ec))) fs::remove(p, ec);
      }
    write_file_atomic(s.out_dir + "/config.yaml", config_text);
  };
  out.result = fit(*out.model, s.data, s.options, s.out_dir, resume.get(), log, claim);
  if (!claimed) claim();
  out.summary_json = write_summary(s.out_dir, out.model->name(), out.result);
  return out;
}

}  // namespace dagrad
