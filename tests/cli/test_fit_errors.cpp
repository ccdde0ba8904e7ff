// The catalogue of broken model and training files: each gives a clear error naming the file,
// line and what was expected, exits with status 2, and writes nothing.
#include <doctest/doctest.h>

#include <vector>

#include "test_util.hpp"

using namespace dagrad;

namespace {

const char* kFitModel = R"(name: synthetic
inputs: {user: string, item: string, item_id: int}
layers:
  user_index: {type: StringLookup, input: user}
  user_vec: {type: Embedding, input: user_index, output_dim: 8}
  query: {type: Dense, input: user_vec, units: 8}
  item_index: {type: StringLookup, input: item, adapt: candidates}
  item_vec: {type: Embedding, input: item_index, output_dim: 8}
  candidate: {type: Dense, input: item_vec, units: 8}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id}
)";

const char* kTrain = R"(data:
  source: csv
  interactions: interactions.csv
  candidates: items.csv
  columns: {user: string, item: string, item_id: int}
  candidate_columns: {item: string, item_id: int}
  split: {seed: 1, test: 0.25}
fit:
  epochs: 1
  batch_size: 4
  optimizer: {type: Adagrad, learning_rate: 0.1}
  progress: none
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  return s.replace(pos, from.size(), to);
}

struct Case {
  const char* name;
  std::string model, train;
  std::vector<std::string> expect;  // parts of the message
  std::string extra_args = "";
};

}  // namespace

TEST_CASE("broken YAML files give clear errors, exit status 2, and write nothing") {
  const std::string m = kFitModel, t = kTrain;
  std::vector<Case> cases = {
      {"not YAML", "layers: [unclosed\n  - {", t, {"model.yaml:", "YAML"}},
      {"top level not a map", "- a\n- b\n", t, {"model.yaml:1:1", "map"}},
      {"wrong type", replace(m, "units: 8}\n  item_index", "units: eight}\n  item_index"), t, {"model.yaml:6:", "units", "integer"}},
      {"unknown key", replace(m, "units: 8}\n  item_index", "unitz: 8}\n  item_index"), t, {"model.yaml:6:", "unitz", "did you mean 'units'"}},
      {"unknown layer", replace(m, "type: Dense, input: user_vec", "type: Dence, input: user_vec"), t, {"model.yaml:6:", "unknown layer type 'Dence'; did you mean 'Dense'?"}},
      {"two layers reading each other", replace(m, "input: user_index, output_dim", "input: query, output_dim"), t, {"model.yaml:", "layers read each other in a circle: user_vec -> query -> user_vec"}},
      {"unknown value", replace(m, "input: user_index, output_dim", "input: usr_index, output_dim"), t, {"model.yaml:5:", "unknown value 'usr_index'"}},
      {"a layer reading itself", replace(m, "input: user_vec, units", "input: query, units"), t, {"model.yaml:6:", "layers read each other in a circle: query -> query"}},
      {"shapes do not fit", replace(m, "  candidate: {type: Dense", "  bad: {op: Add, inputs: [user_vec, user_index]}\n  candidate: {type: Dense"), t, {"model.yaml:9:", "Add", "user_index"}},
      {"negative size", replace(m, "output_dim: 8}\n  query", "output_dim: -4}\n  query"), t, {"model.yaml:5:", "output_dim", "> 0"}},
      {"zero size", replace(m, "units: 8}\n  item_index", "units: 0}\n  item_index"), t, {"model.yaml:6:", "units", "> 0"}},
      {"empty model", "name: x\ninputs: {user: string}\nlayers: {}\ntask: {type: Retrieval}\n", t, {"model.yaml:3:", "at least one layer"}},
      {"unknown input type", replace(m, "item_id: int}", "item_id: integer}"), t, {"model.yaml:2:", "integer", "string, int, float"}},
      {"unknown task", replace(m, "type: Retrieval", "type: Retrieve"), t, {"model.yaml:10:", "unknown task 'Retrieve'", "Ranking"}},
      {"unknown optimizer", m, replace(t, "type: Adagrad", "type: Adagard"), {"train.yaml:11:", "Adagard", "Adagrad"}},
      {"unknown optimizer option", m, replace(t, "learning_rate: 0.1", "learning_rat: 0.1"), {"train.yaml:11:", "learning_rat"}},
      {"missing required key", m, replace(t, "  epochs: 1\n", ""), {"train.yaml:", "epochs"}},
      {"unknown fit key", m, replace(t, "  epochs: 1\n", "  epochs: 1\n  epoch: 2\n"), {"train.yaml:10:", "epoch", "did you mean"}},
      {"unknown data source", m, replace(t, "source: csv", "source: parquet"), {"train.yaml:2:", "unknown data source 'parquet'", "csv"}},
      {"missing data file", m, replace(t, "interactions.csv", "nothere.csv"), {"nothere.csv", "cannot open"}},
      {"split too large", m, replace(t, "test: 0.25", "test: 500"), {"train.yaml:7:", "exceed"}},
      {"missing training file", m, t, {"nope.yaml", "no such training file"}, "--train-override"},
      {"--set of a key that does not exist", m, t, {"--set fit.epochz=3: fit.epochz: unknown key 'epochz'", "did you mean 'epochs'"}, "--set fit.epochz=3"},
      {"--set with a wrong type", m, t, {"--set fit.epochs=many", "integer"}, "--set fit.epochs=many"},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      test::TempDir d("bad_yaml");
      d.write("interactions.csv", "user,item,item_id\nu1,a,1\nu2,b,2\nu1,b,2\nu2,a,1\n");
      d.write("items.csv", "item,item_id\na,1\nb,2\n");
      std::string model = d.write("model.yaml", c.model);
      std::string train = d.write("train.yaml", c.train);
      std::string args = c.extra_args == "--train-override" ? " --train " + d.file("nope.yaml")
                                                            : " --train " + train + " " + c.extra_args;
      auto p = test::run(test::dagrad_exe() + " fit " + model + args + " --out " + d.file("out"));
      INFO(c.name << ":\n" << p.output);
      CHECK(p.status == 2);
      for (const auto& part : c.expect) CHECK(p.output.find(part) != std::string::npos);
      CHECK(!std::filesystem::exists(d.file("out")));
    }
  }
}

TEST_CASE("an include loop is an error naming the chain") {
  test::TempDir d("include_loop");
  d.write("a.yaml", "include: b.yaml\nfit: {epochs: 1}\n");
  d.write("b.yaml", "include: a.yaml\n");
  std::string model = d.write("model.yaml", kFitModel);
  auto p = test::run(test::dagrad_exe() + " fit " + model + " --train " + d.file("a.yaml") + " --out " + d.file("out"));
  INFO(p.output);
  CHECK(p.status == 2);
  CHECK(p.output.find("a.yaml") != std::string::npos);
  CHECK(p.output.find("b.yaml") != std::string::npos);
  CHECK(!std::filesystem::exists(d.file("out")));
}

TEST_CASE("--set adds keys the schema allows and an include adds a layer anywhere") {
  test::TempDir d("set_absent");
  d.write("interactions.csv", "user,item,item_id\nu1,a,1\nu2,b,2\nu1,b,2\nu2,a,1\n");
  d.write("items.csv", "item,item_id\na,1\nb,2\n");
  std::string model = d.write("model.yaml", kFitModel);
  std::string train = d.write("train.yaml", kTrain);
  // Keys absent from both files: fit.shuffle and fit.seed, a new early_stopping map, a layer key
  // (use_bias) and a whole new layer, which the query then reads although it comes later.
  auto p = test::run(test::dagrad_exe() + " fit " + model + " --train " + train + " --out " + d.file("out") +
                     " --set fit.shuffle=false --set fit.seed=3 --set fit.early_stopping.metric=test_loss"
                     " --set model.layers.query.use_bias=false"
                     " --set 'model.layers.user_mix={type: Dense, input: user_vec, units: 8, activation: tanh}'"
                     " --set model.layers.query.input=user_mix");
  INFO(p.output);
  CHECK(p.status == 0);
  std::string config = test::read_text(d.file("out/config.yaml"));
  CHECK(test::contains(config, "shuffle: false"));
  CHECK(test::contains(config, "user_mix:"));

  // An including file adds a layer between two of the included file's layers.
  d.write("deeper.yaml", "include: model.yaml\nlayers:\n  query: {input: user_deep}\n"
                         "  user_deep: {type: MLP, input: user_vec, units: [16, 8], activation: Tanh}\n");
  p = test::run(test::dagrad_exe() + " describe " + d.file("deeper.yaml") + " --train " + train);
  INFO(p.output);
  CHECK(p.status == 0);
  CHECK(test::contains(p.output, "user_deep/dense_0"));
  CHECK(test::contains(p.output, "user_deep/dense_0/Tanh"));
}
