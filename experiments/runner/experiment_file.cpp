#include "experiments/runner/experiment_file.hpp"

#include <filesystem>
#include <set>

#include "config/keys.hpp"

namespace dagrad::experiment {

namespace fs = std::filesystem;

const Schema& run_schema() {
  static const Schema s{
      Key::string("name", "the run's name: its folder OUT/<experiment>/<name>/seed_<s>, and what anchors name").required(),
      Key::string("label", "shown in tables and legends").otherwise_text("the name"),
      Key::string("model", "the model file, relative to the experiment file").required(),
      Key::string("train", "the training file, relative to the experiment file").otherwise_text("the experiment's `train`"),
      Key::strings("set", "overrides of this run (`fit.epochs=5`, `model.layers.x.units=[8]`), after the experiment's")
          .otherwise_text("none")};
  return s;
}

const Schema& metric_schema() {
  static const Schema s{
      Key::string("key", "a column of the runs' history (`test_rmse`, `test_auc`, `test_loss`, ...): its last value is "
                         "reported").required(),
      Key::string("label", "the table's column header").otherwise_text("the key"),
      Key::integer("digits", "decimals shown").in(Range::at_least(0) & Range::at_most(12)).otherwise(4),
      Key::choice("better", {"lower", "higher"}, "which direction is better (for `beats` anchors)").otherwise("lower")};
  return s;
}

const Schema& anchor_schema() {
  static const Schema s{
      Key::string("run", "the run whose mean over seeds is compared").required(),
      Key::string("metric", "the metric's key").required(),
      Key::number("value", "the published number").otherwise_text("none: give `beats`"),
      Key::number("tolerance", "the mean counts as reproducing the number within this distance")
          .in(Range::at_least(0))
          .otherwise(0.0),
      Key::string("beats", "instead of a value: another run this run's mean must be better than").otherwise_text("none"),
      Key::string("source", "where the number comes from (shown beside it)").otherwise("")};
  return s;
}

const Schema& figure_schema() {
  static const Schema s{Key::string("metric", "a metric's key: drawn against the epoch, a line per run with its "
                                              "seeds' min–max band").required(),
                        Key::string("title", "the figure's title").otherwise_text("the experiment's title and the metric")};
  return s;
}

const Schema& experiment_schema() {
  static const Schema s{
      Key::string("name", "the experiment's name: runs go to OUT/<name>, the report to RESULTS/<name>").required(),
      Key::string("title", "the report's title").required(),
      Key::string("about", "markdown under the title: the setup, and how it differs from the anchors'").otherwise(""),
      Key::string("train", "the training file of every run, relative to the experiment file").required(),
      Key::integer("seeds", "seeds per run: seed s = 1..N sets each of seed_keys to seed_base + s")
          .in(Range::at_least(1))
          .otherwise(3),
      Key::integer("seed_base", "see seeds").in(Range::at_least(0)).otherwise(41),
      Key::strings("seed_keys", "training-file keys set to each run's seed").otherwise_text("[fit.seed, data.split.seed]"),
      Key::strings("set", "overrides of every run").otherwise_text("none"),
      Key::any("runs", "list of maps", "the runs: each a map of name, label, model, train, set").required(),
      Key::any("metrics", "list of maps", "the reported metrics: each a map of key, label, digits, better").required(),
      Key::any("anchors", "list of maps", "published numbers: each a map of run, metric, value, tolerance or beats, source")
          .otherwise_text("none"),
      Key::any("figures", "list of maps", "figures: each a map of metric, title").otherwise_text("none")};
  return s;
}

const RunEntry* ExperimentFile::run(const std::string& n) const {
  for (const auto& r : runs)
    if (r.name == n) return &r;
  return nullptr;
}

const MetricEntry* ExperimentFile::metric(const std::string& key) const {
  for (const auto& m : metrics)
    if (m.key == key) return &m;
  return nullptr;
}

namespace {

// Each element of the list at `key` read through `schema`.
std::vector<Keys> maps_of(const Keys& top, const std::string& key, const Schema& schema) {
  std::vector<Keys> out;
  if (!top.has(key)) return out;
  ConfigNode list = top.at(key);
  if (!list.is_list()) list.fail("expected a list of maps, found " + list.describe());
  for (const ConfigNode& e : list.elements()) {
    if (!e.is_map()) e.fail("expected a map, found " + e.describe());
    out.emplace_back(e, schema);
  }
  return out;
}

std::string existing_file(const Keys& k, const std::string& key, const fs::path& dir) {
  ConfigNode at = k.at(key);
  fs::path p = fs::path(k.string(key));
  if (p.is_relative()) p = dir / p;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) at.fail("no such file: " + p.string());
  return p.lexically_normal().string();
}

std::vector<std::string> names_of_runs(const ExperimentFile& e) {
  std::vector<std::string> n;
  for (const auto& r : e.runs) n.push_back(r.name);
  return n;
}

std::vector<std::string> keys_of_metrics(const ExperimentFile& e) {
  std::vector<std::string> n;
  for (const auto& m : e.metrics) n.push_back(m.key);
  return n;
}

void check_named(const ConfigNode& at, const std::string& what, const std::string& name,
                 const std::vector<std::string>& known) {
  for (const auto& k : known)
    if (k == name) return;
  at.fail("no " + what + " '" + name + "'" + did_you_mean(name, known) + " (" + what + "s: " + join(known) + ")");
}

}  // namespace

ExperimentFile load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigNode root = load_config(path, overrides);
  Keys top(root, experiment_schema());
  const fs::path dir = fs::path(path).parent_path();
  ExperimentFile e;
  e.path = path;
  e.name = top.string("name");
  if (e.name.empty() || e.name.find('/') != std::string::npos || e.name == "." || e.name == "..")
    top.at("name").fail("expected a plain folder name (no '/'), found '" + e.name + "'");
  e.title = top.string("title");
  e.about = top.string("about");
  e.train = existing_file(top, "train", dir);
  e.seeds = static_cast<int>(top.integer("seeds"));
  e.seed_base = top.integer("seed_base");
  e.seed_keys = top.has("seed_keys") ? top.strings("seed_keys") : std::vector<std::string>{"fit.seed", "data.split.seed"};
  if (top.has("set")) e.set = top.strings("set");

  std::set<std::string> seen;
  for (const Keys& k : maps_of(top, "runs", run_schema())) {
    RunEntry r;
    r.name = k.string("name");
    if (r.name.empty() || r.name.find('/') != std::string::npos || r.name == "." || r.name == "..")
      k.at("name").fail("expected a plain folder name (no '/'), found '" + r.name + "'");
    if (!seen.insert(r.name).second) k.at("name").fail("a second run named '" + r.name + "'");
    r.label = k.has("label") ? k.string("label") : r.name;
    r.model = existing_file(k, "model", dir);
    r.train = k.has("train") ? existing_file(k, "train", dir) : e.train;
    if (k.has("set")) r.set = k.strings("set");
    e.runs.push_back(std::move(r));
  }
  if (e.runs.empty()) top.at("runs").fail("expected at least one run");

  seen.clear();
  for (const Keys& k : maps_of(top, "metrics", metric_schema())) {
    MetricEntry m;
    m.key = k.string("key");
    if (!seen.insert(m.key).second) k.at("key").fail("a second metric '" + m.key + "'");
    m.label = k.has("label") ? k.string("label") : m.key;
    m.digits = static_cast<int>(k.integer("digits"));
    m.higher_is_better = k.string("better") == "higher";
    e.metrics.push_back(std::move(m));
  }
  if (e.metrics.empty()) top.at("metrics").fail("expected at least one metric");

  for (const Keys& k : maps_of(top, "anchors", anchor_schema())) {
    AnchorEntry a;
    a.run = k.string("run");
    check_named(k.at("run"), "run", a.run, names_of_runs(e));
    a.metric = k.string("metric");
    check_named(k.at("metric"), "metric", a.metric, keys_of_metrics(e));
    if (k.has("value") == k.has("beats")) k.node().fail("an anchor needs either `value` (with `tolerance`) or `beats`");
    if (k.has("value")) a.value = k.number("value");
    a.tolerance = k.number("tolerance");
    if (k.has("beats")) {
      a.beats = k.string("beats");
      check_named(k.at("beats"), "run", a.beats, names_of_runs(e));
      if (a.beats == a.run) k.at("beats").fail("a run cannot beat itself");
    }
    a.source = k.string("source");
    e.anchors.push_back(std::move(a));
  }

  for (const Keys& k : maps_of(top, "figures", figure_schema())) {
    FigureEntry f;
    f.metric = k.string("metric");
    check_named(k.at("metric"), "metric", f.metric, keys_of_metrics(e));
    const MetricEntry* m = e.metric(f.metric);
    f.title = k.has("title") ? k.string("title") : e.title + ": " + m->label;
    e.figures.push_back(std::move(f));
  }
  return e;
}

}  // namespace dagrad::experiment
