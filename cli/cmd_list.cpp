// `dagrad list` and `dagrad help`: everything registered (layers, preprocessing layers, ops, tasks,
// optimizers, metrics, data sources) and the sections of the model and training files, each with
// its declared keys. `dagrad list --markdown` prints the reference that docs/yaml.md holds (a test
// fails when the file is stale), so the documentation comes from the same declarations the readers
// check against.
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "graph/op.hpp"
#include "layers/layer.hpp"
#include "models/data/dataset.hpp"
#include "models/data/preprocessing/preprocessor.hpp"
#include "models/fit/fitter.hpp"
#include "models/metrics/metric.hpp"
#include "models/model.hpp"
#include "models/optimizers/optimizer.hpp"
#include "models/task.hpp"

namespace dagrad::cli {
namespace {

// One documented thing: a registered entry or a section of a file.
struct Item {
  std::string name, description;
  Schema keys;            // every key its map takes (common keys included)
  std::string extra;      // e.g. an op's inputs
};

struct Kind {
  std::string title;      // "Layers"
  std::string noun;       // "layer"
  std::string intro;      // how it is written in a file
  std::vector<Item> items;
};

std::string op_inputs(const OpInfo& info) {
  std::vector<std::string> names;
  std::pair<int, int> arity{0, 0};
  try {
    auto samples = info.samples();
    auto op = OpRegistry::instance().make(info.name, samples.empty() ? Attrs{} : samples[0].attrs);
    names = op->input_names();
    arity = op->arity();
  } catch (const std::exception&) {
    return "";
  }
  if (!names.empty()) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + (n.back() == '?' ? n.substr(0, n.size() - 1) + " (optional)" : n);
    return "inputs by name: " + s;
  }
  if (arity.first == arity.second)
    return arity.first == 1 ? "one input (`input:`)" : std::to_string(arity.first) + " inputs (`inputs:`, in order)";
  return std::to_string(arity.first) + (arity.second < 0 ? " or more" : " to " + std::to_string(arity.second)) +
         " inputs (`inputs:`, in order)";
}

std::vector<Kind> catalogue() {
  std::vector<Kind> kinds;
  {
    Kind k{"Model file", "section", "A model file's top level: its inputs, its layers (a graph of named values) and its task.", {}};
    k.items.push_back({"model file", "the top-level keys of a model file", Model::file_schema(), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Training file", "section",
           "A training file has two maps, `data` (where the interactions come from and how they are split) and "
           "`fit` (how the model is trained); either file may `include:` others and `--set key.path=value` "
           "overrides any key (`model.` keys go to the model file).",
           {}};
    Schema data = DataSourceRegistry::common();
    k.items.push_back({"data", "the `data` map: the common keys, then those of the chosen source (see Data sources)", data, ""});
    k.items.push_back({"fit", "the `fit` map", FitOptions::schema(), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Layers", "layer", "`name: {type: TYPE, ...}` under `layers:`; keys naming values (`input`, `inputs`, ...) name model inputs or other layers, in any order.", {}};
    for (const auto* e : LayerRegistry::instance().entries())
      k.items.push_back({e->name, e->description, Schema(LayerRegistry::common()).then(e->schema), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Preprocessing layers", "preprocessing layer",
           "`name: {type: TYPE, input: COLUMN, ...}` under `layers:`: turns an input column into ids or numbers, adapted on a "
           "table or given its state, saved with the model.",
           {}};
    for (const auto* e : PreprocessorRegistry::instance().entries())
      k.items.push_back({e->name, e->description, Schema(PreprocessorRegistry::common()).then(e->schema), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Ops", "op",
           "`name: {op: OP, input: VALUE}` (or `inputs: [...]`, or inputs by name) under `layers:`, with the op's "
           "attributes as further keys.",
           {}};
    for (const auto* e : OpRegistry::instance().entries())
      k.items.push_back({e->name, e->description, e->schema, op_inputs(*e)});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Tasks", "task", "`task: {type: TYPE, ...}` in the model file.", {}};
    for (const auto* e : TaskRegistry::instance().entries())
      k.items.push_back({e->name, e->description, Schema(TaskRegistry::common()).then(e->schema), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Optimizers", "optimizer", "`optimizer: {type: TYPE, ...}` in the training file's `fit`.", {}};
    for (const auto* e : OptimizerRegistry::instance().entries())
      k.items.push_back({e->name, e->description, Schema(OptimizerRegistry::common()).then(e->schema), ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Metrics", "metric", "Named in a Ranking task's `metrics:` list.", {}};
    for (const auto* e : MetricRegistry::instance().entries()) k.items.push_back({e->name, e->description, e->schema, ""});
    kinds.push_back(std::move(k));
  }
  {
    Kind k{"Data sources", "data source", "`source: NAME` in the training file's `data`, with the source's keys beside the common ones.", {}};
    for (const auto* e : DataSourceRegistry::instance().entries()) k.items.push_back({e->name, e->description, e->schema, ""});
    kinds.push_back(std::move(k));
  }
  return kinds;
}

// Markdown table cells: no line breaks, and '|' escaped.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

void keys_markdown(std::ostream& os, const Schema& keys, const std::string& prefix = "") {
  for (const auto& k : keys.keys()) {
    os << "| `" << prefix << k.name() << "` | " << cell(k.kind_text()) << " | " << cell(k.default_text()) << " | "
       << cell(k.doc()) << " |\n";
    if (k.sub()) keys_markdown(os, *k.sub(), prefix + k.name() + ".");
  }
}

std::string markdown(const std::vector<Kind>& kinds) {
  std::ostringstream os;
  os << "# YAML reference\n\n"
        "Generated by `build/cli/dagrad list --markdown > docs/yaml.md` from the keys each layer, op, task, "
        "optimizer, metric and data source declares in its own source file (`static Schema` / `keys()`), which "
        "are also what the readers check a file against; a test fails when this file is stale. `dagrad help NAME` "
        "prints one entry. A default of \"required\" means the key must be given; an empty default means the key "
        "is optional and unset unless given.\n\n## Contents\n\n";
  for (const auto& k : kinds) {
    std::string anchor;
    for (char c : k.title) anchor += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    os << "- [" << k.title << "](#" << anchor << ")\n";
  }
  for (const auto& k : kinds) {
    os << "\n## " << k.title << "\n\n" << k.intro << "\n";
    for (const auto& it : k.items) {
      os << "\n### " << it.name << "\n\n" << it.description << ".";
      if (!it.extra.empty()) os << " Takes " << it.extra << ".";
      os << "\n\n";
      if (it.keys.empty()) {
        os << "No keys" << (k.noun == "op" ? " (attributes)" : "") << ".\n";
        continue;
      }
      os << "| key | kind | default | meaning |\n|---|---|---|---|\n";
      keys_markdown(os, it.keys);
    }
  }
  return os.str();
}

void keys_text(std::ostream& os, const Schema& keys, const std::string& prefix = "") {
  for (const auto& k : keys.keys()) {
    std::string def = k.default_text();
    os << "  " << prefix << k.name() << ": " << k.kind_text()
       << (def.empty() ? "" : def == "required" ? ", required" : ", default " + def) << "\n      "
       << k.doc() << "\n";
    if (k.sub()) keys_text(os, *k.sub(), prefix + k.name() + ".");
  }
}

const char* kListHelp =
    "usage: dagrad list [KIND] [--markdown]\n\n"
    "Lists what a model or training file can name, each with one line: layers, preprocessing layers,\n"
    "ops, tasks, optimizers, metrics, data sources (KIND: one of these, singular or plural).\n"
    "--markdown prints the whole YAML reference with every key (docs/yaml.md).\n";

const char* kHelpHelp =
    "usage: dagrad help NAME\n\n"
    "Prints what NAME is (a layer, preprocessing layer, op, task, optimizer, metric, data source, or one\n"
    "of the sections 'model file', 'data', 'fit') and every key it takes: kind, allowed values, default,\n"
    "meaning. A name that is both a layer and an op prints both.\n";

}  // namespace

int cmd_list(int argc, char** argv) {
  Args a(argc, argv, {}, {"markdown"});
  if (a.help()) { std::fputs(kListHelp, stdout); return 0; }
  if (a.positional().size() > 1) { std::fputs(kListHelp, stderr); return 2; }
  std::vector<Kind> kinds = catalogue();
  if (a.has("markdown")) {
    if (!a.positional().empty()) { std::fputs(kListHelp, stderr); return 2; }
    std::fputs(markdown(kinds).c_str(), stdout);
    return 0;
  }
  std::string want = a.positional().empty() ? "" : a.positional()[0];
  bool found = want.empty();
  std::vector<std::string> nouns;
  for (const auto& k : kinds) {
    if (k.noun == "section") continue;
    nouns.push_back(k.noun + "s");
    std::string title = k.title;
    for (char& c : title) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!want.empty() && want != k.noun && want != k.noun + "s" && want != title) continue;
    found = true;
    std::printf("%s:\n", k.title.c_str());
    for (const auto& it : k.items) std::printf("  %-22s %s\n", it.name.c_str(), it.description.c_str());
  }
  if (!found) throw UserError("dagrad list: unknown kind '" + want + "'" + did_you_mean(want, nouns) + " (kinds: " + join(nouns) + ")");
  return 0;
}

int cmd_help(int argc, char** argv) {
  Args a(argc, argv, {}, {});
  if (a.help()) { std::fputs(kHelpHelp, stdout); return 0; }
  if (a.positional().size() != 1) { std::fputs(kHelpHelp, stderr); return 2; }
  const std::string name = a.positional()[0];
  std::vector<std::string> all;
  int shown = 0;
  for (const auto& k : catalogue()) {
    for (const auto& it : k.items) {
      all.push_back(it.name);
      if (it.name != name) continue;
      std::ostringstream os;
      os << (shown++ ? "\n" : "") << it.name << " (" << k.noun << "): " << it.description << "\n";
      if (!it.extra.empty()) os << "Takes " << it.extra << ".\n";
      os << k.intro << "\n";
      if (it.keys.empty()) {
        os << "No keys.\n";
      } else {
        os << "Keys:\n";
        keys_text(os, it.keys);
      }
      std::fputs(os.str().c_str(), stdout);
    }
  }
  if (!shown) throw UserError("dagrad help: nothing is named '" + name + "'" + did_you_mean(name, all) + " (`dagrad list` lists every name)");
  return 0;
}

}  // namespace dagrad::cli
