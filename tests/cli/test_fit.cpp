// cli/cmd_fit.cpp and models/fit/fitter.cpp end to end: a synthetic retrieval problem that the test
// generates, trained through `dagrad fit` with YAML files; resume gives identical parameters.
#include <doctest/doctest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "models/io/archive.hpp"
#include "models/run/run.hpp"
#include "test_util.hpp"

using namespace dagrad;

namespace {

// 40 users, 40 items; user u always picks item (7u mod 40), 10 times: a bijection the model can learn.
void write_problem(const test::TempDir& d, int epochs) {
  std::ostringstream inter, items;
  inter << "user,item,item_id\n";
  for (int rep = 0; rep < 10; ++rep)
    for (int u = 0; u < 40; ++u) inter << "u" << u << ",item " << (7 * u) % 40 << "," << (7 * u) % 40 << "\n";
  items << "item,item_id\n";
  for (int i = 0; i < 40; ++i) items << "item " << i << "," << i << "\n";
  d.write("interactions.csv", inter.str());
  d.write("items.csv", items.str());
  d.write("model.yaml", R"(name: synthetic
inputs: {user: string, item: string, item_id: int}
layers:
  user_index: {type: StringLookup, input: user}
  user_vec: {type: Embedding, input: user_index, output_dim: 16}
  query: {type: Dense, input: user_vec, units: 16}
  item_index: {type: StringLookup, input: item, adapt: candidates}
  item_vec: {type: Embedding, input: item_index, output_dim: 16}
  candidate: {type: Dense, input: item_vec, units: 16}
task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item_id, metrics: {top_k: [1, 5]}}
)");
  d.write("train.yaml", "data:\n  source: csv\n  interactions: interactions.csv\n  candidates: items.csv\n"
                        "  columns: {user: string, item: string, item_id: int}\n"
                        "  candidate_columns: {item: string, item_id: int}\n"
                        "  split: {seed: 1, test: 0.2}\n"
                        "fit:\n  seed: 3\n  epochs: " + std::to_string(epochs) + "\n  batch_size: 32\n"
                        "  optimizer: {type: Adagrad, learning_rate: 0.5}\n  validate_every: 5\n  progress: none\n");
}

// The summary a command prints: the last line of its output that holds "metrics".
nlohmann::json printed_summary(const std::string& output) {
  const size_t at = output.rfind("\"metrics\"");
  REQUIRE_MESSAGE(at != std::string::npos, output);
  const size_t begin = output.rfind('\n', at) == std::string::npos ? 0 : output.rfind('\n', at) + 1;
  return nlohmann::json::parse(output.substr(begin, output.find('\n', at) - begin));
}

}  // namespace

TEST_CASE("a synthetic retrieval problem trains to top-1 above 0.95 through dagrad fit") {
  test::TempDir d("fit");
  write_problem(d, 40);
  auto p = test::run(test::dagrad_exe() + " fit " + d.file("model.yaml") + " --train " + d.file("train.yaml") +
                     " --out " + d.file("out"));
  INFO(p.output);
  REQUIRE(p.status == 0);
  const auto last = printed_summary(p.output);
  const double top1 = last.at("metrics").at("test_factorized_top_k/top_1_categorical_accuracy");
  CHECK(top1 > 0.95);
  CHECK(last.at("epochs") == 40);
  for (const char* f : {"summary.json", "history.json", "history.csv", "model.dagrad", "checkpoint.dagrad", "config.yaml"})
    CHECK_MESSAGE(std::filesystem::exists(d.file(std::string("out/") + f)), f);
  CHECK(test::read_text(d.file("out/summary.json")).find("top_1_categorical_accuracy") != std::string::npos);
  // evaluate and describe on the trained model
  auto e = test::run(test::dagrad_exe() + " evaluate " + d.file("out/model.dagrad") + " --train " + d.file("train.yaml"));
  CHECK_MESSAGE(e.status == 0, e.output);
  CHECK(printed_summary(e.output).at("metrics").at("test_factorized_top_k/top_1_categorical_accuracy").get<double>() ==
        doctest::Approx(top1));
  auto s = test::run(test::dagrad_exe() + " describe " + d.file("model.yaml") + " --train " + d.file("train.yaml"));
  CHECK_MESSAGE(s.status == 0, s.output);
  CHECK(s.output.find("user_vec/embeddings") != std::string::npos);
  CHECK(s.output.find("StringLookup, 41 ids") != std::string::npos);
}

TEST_CASE("ten epochs straight and five + resume + five give identical parameters") {
  test::TempDir d("resume");
  write_problem(d, 10);
  RunSpec straight{d.file("model.yaml"), d.file("train.yaml"), "", d.file("a"), {}, false};
  std::ostringstream log;
  run_fit(straight, log);
  RunSpec half{d.file("model.yaml"), d.file("train.yaml"), "", d.file("b"), {"fit.epochs=5"}, false};
  run_fit(half, log);
  RunSpec rest{d.file("model.yaml"), d.file("train.yaml"), "", d.file("b"), {}, true};
  RunOutput o = run_fit(rest, log);
  CHECK(o.result.epochs == 10);
  ArchiveReader a(d.file("a/model.dagrad")), b(d.file("b/model.dagrad"));
  int compared = 0;
  for (const auto& name : a.names()) {
    if (name.rfind("param/", 0) != 0) continue;
    Tensor x = a.tensor(name), y = b.tensor(name);
    REQUIRE(x.size() == y.size());
    for (int64_t i = 0; i < x.size(); ++i) REQUIRE_MESSAGE(x.f32()[i] == y.f32()[i], name << " element " << i);
    ++compared;
  }
  CHECK(compared == 6);
  CHECK(log.str().find("resumed from") != std::string::npos);
}
