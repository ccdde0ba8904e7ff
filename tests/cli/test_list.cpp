// cli/cmd_list.cpp: `dagrad list` and `dagrad help` print what the registries and the files'
// schemas declare, and docs/yaml.md is exactly `dagrad list --markdown` (regenerate it with
// `build/cli/dagrad list --markdown > docs/yaml.md` after changing a declaration).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "graph/op.hpp"
#include "layers/layer.hpp"
#include "models/data/dataset.hpp"
#include "models/data/preprocessing/preprocessor.hpp"
#include "models/metrics/metric.hpp"
#include "models/optimizers/optimizer.hpp"
#include "models/task.hpp"
#include "test_util.hpp"

using namespace dagrad;

TEST_CASE("docs/yaml.md is the generated reference") {
  auto p = test::run(test::dagrad_exe() + " list --markdown");
  REQUIRE(p.status == 0);
  std::ifstream f(std::string(DAGRAD_SOURCE_DIR) + "/docs/yaml.md", std::ios::binary);
  std::stringstream doc;
  doc << f.rdbuf();
  CHECK_MESSAGE(doc.str() == p.output,
                "docs/yaml.md is stale: regenerate it with build/cli/dagrad list --markdown > docs/yaml.md");
}

TEST_CASE("every registered thing and every key it declares has a description") {
  auto check = [](const std::string& what, const std::string& name, const std::string& description, const Schema& s) {
    CHECK_MESSAGE(!description.empty(), what << " " << name);
    for (const auto& k : s.keys()) CHECK_MESSAGE(!k.doc().empty(), what << " " << name << " key " << k.name());
  };
  for (auto* e : OpRegistry::instance().entries()) check("op", e->name, e->description, e->schema);
  for (auto* e : LayerRegistry::instance().entries()) check("layer", e->name, e->description, e->schema);
  for (auto* e : PreprocessorRegistry::instance().entries()) check("preprocessor", e->name, e->description, e->schema);
  for (auto* e : TaskRegistry::instance().entries()) check("task", e->name, e->description, e->schema);
  for (auto* e : OptimizerRegistry::instance().entries()) check("optimizer", e->name, e->description, e->schema);
  for (auto* e : MetricRegistry::instance().entries()) check("metric", e->name, e->description, e->schema);
  for (auto* e : DataSourceRegistry::instance().entries()) check("data source", e->name, e->description, e->schema);
  // Layer and op names may coincide (Dense): the YAML tells them apart by `type:` and `op:`.
  CHECK(LayerRegistry::instance().contains("Dense"));
  CHECK(OpRegistry::instance().contains("Dense"));
}

TEST_CASE("dagrad list and dagrad help") {
  auto p = test::run(test::dagrad_exe() + " list");
  CHECK(p.status == 0);
  for (const char* part : {"Layers:", "  MLP ", "Preprocessing layers:", "  StringLookup ", "Ops:", "  MatMul ",
                           "Tasks:", "  Ranking ", "Optimizers:", "  Adagrad ", "Metrics:", "  rmse ", "Data sources:",
                           "  movielens "})
    CHECK_MESSAGE(test::contains(p.output, part), part);
  p = test::run(test::dagrad_exe() + " list optimizers");
  CHECK(p.status == 0);
  CHECK(test::contains(p.output, "Optimizers:\n  Adagrad"));
  CHECK_FALSE(test::contains(p.output, "Layers:"));
  p = test::run(test::dagrad_exe() + " list optimisers");
  CHECK(p.status == 2);
  CHECK(test::contains(p.output, "unknown kind 'optimisers'; did you mean 'optimizers'?"));

  p = test::run(test::dagrad_exe() + " help MLP");
  CHECK(p.status == 0);
  CHECK(test::contains(p.output, "MLP (layer): "));
  CHECK(test::contains(p.output, "  units: list of integers, each > 0, required\n"));
  CHECK(test::contains(p.output, "  activation: string, default relu\n"));
  // A name that is a layer and an op prints both.
  p = test::run(test::dagrad_exe() + " help Dense");
  CHECK(test::contains(p.output, "Dense (layer): "));
  CHECK(test::contains(p.output, "Dense (op): "));
  CHECK(test::contains(p.output, "Takes 3 inputs"));
  p = test::run(test::dagrad_exe() + " help fit");
  CHECK(test::contains(p.output, "  epochs: integer > 0, required\n"));
  CHECK(test::contains(p.output, "  early_stopping.patience: integer >= 1, default 3\n"));
  p = test::run(test::dagrad_exe() + " help Adagrd");
  CHECK(p.status == 2);
  CHECK(test::contains(p.output, "nothing is named 'Adagrd'; did you mean 'Adagrad'?"));
}
