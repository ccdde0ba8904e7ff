// models/model.cpp: ops used directly as layers (attributes from YAML), and saving and loading a
// model: it reloads from its own stored model file, predicts identical values, keeps its
// preprocessing and streaming state, and load_parameters says what differs.
#include <doctest/doctest.h>

#include <thread>

#include "models/io/archive.hpp"
#include "models/model_test_util.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::check_values;

TEST_CASE("an op used as a layer takes its inputs and attributes from the YAML map") {
  Table t("interactions");
  t.add("a", FloatColumn{3, 0});
  t.add("b", FloatColumn{4, -2});
  const std::string yaml = "name: ops\n"
                           "inputs: {a: float, b: float}\n"
                           "layers:\n"
                           "  x: {type: Concat, inputs: [a, b]}\n"
                           "  unit: {op: L2Normalize, input: x}\n"
                           "  half: {op: Scale, input: x, scale: 0.5}\n"
                           "  sum: {op: Add, inputs: [unit, half]}\n"
                           "  gram: {op: MatMul, inputs: [x, x], transpose_b: true}\n"
                           "task: {type: Retrieval, query: sum, candidate: sum}\n";
  auto m = test::build_model(yaml, test::tables_of(t));
  CHECK(m->graph().node(m->value("half")).op_name == "Scale");
  CHECK(m->graph().node(m->value("half")).name == "half");
  // x = [[3, 4], [0, -2]]
  // unit = x / |x|: [[0.6, 0.8], [0, -1]]; half = [[1.5, 2], [0, -1]]; sum = [[2.1, 2.8], [0, -2]]
  check_values(test::values_of(test::forward(*m, t, "unit")), {0.6f, 0.8f, 0, -1});
  check_values(test::values_of(test::forward(*m, t, "half")), {1.5f, 2, 0, -1});
  check_values(test::values_of(test::forward(*m, t, "sum")), {2.1f, 2.8f, 0, -2});
  // x·xᵀ = [[9 + 16, 0 - 8], [0 - 8, 0 + 4]]
  check_values(test::values_of(test::forward(*m, t, "gram")), {25, -8, -8, 4});

  std::string e = test::user_error([&] { test::build_model(test::replace_once(yaml, ", scale: 0.5", ""), test::tables_of(t)); });
  INFO(e);
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layers.half: missing key 'scale' (number: the factor)"));
  e = test::user_error([&] { test::build_model(test::replace_once(yaml, "scale: 0.5", "scale: {x: 1}"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:6:"));
  CHECK(test::contains(e, "layers.half.scale: expected a number, found a map"));
  e = test::user_error([&] { test::build_model(test::replace_once(yaml, "inputs: [unit, half]", "inputs: [unit, a]"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:7:"));
  CHECK(test::contains(e, "layer 'sum'"));
}

namespace {

// A two-tower model with every kind of preprocessing state and a streaming estimator.
const char* kTwoTower = R"(name: saved
inputs: {user: string, ts: int, title: string, item: int}
layers:
  user_index: {type: StringLookup, input: user}
  user_vec: {type: Embedding, input: user_index, output_dim: 3}
  ts_bucket: {type: Discretization, input: ts, num_boundaries: 3}
  ts_vec: {type: Embedding, input: ts_bucket, output_dim: 2}
  ts_norm: {type: Normalization, input: ts}
  query_features: {type: Concat, inputs: [user_vec, ts_vec, ts_norm]}
  query: {type: MLP, input: query_features, units: [4, 3]}
  title_tokens: {type: TextVectorization, input: title}
  title_vec: {type: Embedding, input: title_tokens, output_dim: 3, mask_zero: true}
  title_text: {type: MaskedMean, input: title_vec, mask: title_tokens}
  candidate: {type: Dense, input: title_text, units: 3}
task:
  type: Retrieval
  query: query
  candidate: candidate
  candidate_id: item
  normalize: true
  sampling_correction: {type: streaming, buckets: 64, alpha: 0.5}
)";

Table interactions() {
  Table t("interactions");
  t.add("user", StringColumn{"c", "a", "b", "a"});
  t.add("ts", IntColumn{0, 10, 20, 30});
  t.add("title", StringColumn{"Red fox", "blue fox", "red", "fox fox"});
  t.add("item", IntColumn{1, 2, 3, 4});
  return t;
}

// Rows the model has never seen: an unknown user, timestamps outside the adapted range, an
// unknown word.
Table unseen() {
  Table t("unseen");
  t.add("user", StringColumn{"a", "zz", "c"});
  t.add("ts", IntColumn{-100, 17, 1000});
  t.add("title", StringColumn{"fox", "green fox", ""});
  t.add("item", IntColumn{1, 2, 3});
  return t;
}

}  // namespace

TEST_CASE("a saved model reloads from its own file and predicts identical values") {
  test::TempDir dir("model_save");
  Table t = interactions();
  DataTables data = test::tables_of(t);
  auto m = test::build_model(kTwoTower, data, 5);
  const std::vector<int64_t> first = {0, 1}, second = {2, 3};
  test::task_loss(*m, t, first);  // one training step of the frequency estimator
  const std::string path = dir.file("model.dagrad");
  m->save(path);

  // The preprocessing state is in the file, worked out by hand:
  ArchiveReader r(path);
  CHECK(r.strings("preprocessing/user_index/vocabulary") == std::vector<std::string>{"a", "b", "c"});
  // linspace(0, 30, 3)
  check_values(test::values_of(r.tensor("preprocessing/ts_bucket/boundaries")), {0, 15, 30});
  // mean (0 + 10 + 20 + 30) / 4 = 15; variance (225 + 25 + 25 + 225) / 4 = 125
  check_values(test::values_of(r.tensor("preprocessing/ts_norm/mean")), {15});
  check_values(test::values_of(r.tensor("preprocessing/ts_norm/variance")), {125});
  // token counts fox 4, red 2, blue 1 (most frequent first)
  CHECK(r.strings("preprocessing/title_tokens/vocabulary") == std::vector<std::string>{"fox", "red", "blue"});
  CHECK(r.integer("task/frequency/step") == 1);
  CHECK(r.text("model/config").find("title_tokens") != std::string::npos);

  auto loaded = Model::load(path);
  CHECK(loaded->name() == "saved");
  for (int id : m->graph().params()) {
    const std::string& name = m->graph().node(id).name;
    CHECK_MESSAGE(test::param(*loaded, name) == test::param(*m, name), name);
  }
  for (const char* value : {"query", "candidate"}) {
    Table u = unseen();
    Tensor a = m->predict(u, m->value(value), 2), b = loaded->predict(u, loaded->value(value), 2);
    CHECK_MESSAGE(test::values_of(a) == test::values_of(b), value);
    a = m->predict(t, m->value(value), 3);
    b = loaded->predict(t, loaded->value(value), 3);
    CHECK_MESSAGE(test::values_of(a) == test::values_of(b), value);
  }
  // The streaming estimator continues where it was: the next training step's loss is the same.
  CHECK(test::task_loss(*loaded, t, second) == test::task_loss(*m, t, second));
  CHECK(loaded->summary(1).find("StringLookup, 4 ids") != std::string::npos);
}

TEST_CASE("load_parameters names the parameters that differ") {
  test::TempDir dir("model_params");
  Table t = interactions();
  DataTables data = test::tables_of(t);
  const std::string path = dir.file("model.dagrad");
  test::build_model(kTwoTower, data, 5)->save(path);
  ArchiveReader r(path);

  SUBCASE("a layer the file does not have") {
    auto other = test::build_model(
        test::replace_once(kTwoTower, "task:", "  extra: {type: Dense, input: query, units: 2}\ntask:"), data);
    std::string e = test::user_error([&] { other->load_parameters(r); });
    INFO(e);
    CHECK(test::contains(e, path + ": parameters differ from model 'saved'"));
    CHECK(test::contains(e, "missing in the file: extra/kernel, extra/bias"));
    CHECK(test::contains(e, "in the file but not in the model: none"));
  }
  SUBCASE("a renamed layer") {
    std::string yaml = test::replace_once(kTwoTower, "  candidate: {type: Dense", "  item_tower: {type: Dense");
    auto other = test::build_model(test::replace_once(yaml, "candidate: candidate", "candidate: item_tower"), data);
    std::string e = test::user_error([&] { other->load_parameters(r); });
    INFO(e);
    CHECK(test::contains(e, "missing in the file: item_tower/kernel, item_tower/bias"));
    CHECK(test::contains(e, "in the file but not in the model: candidate/bias, candidate/kernel"));
  }
  SUBCASE("a parameter of another shape") {
    auto other = test::build_model(test::replace_once(kTwoTower, "units: [4, 3]", "units: [5, 3]"), data);
    std::string e = test::user_error([&] { other->load_parameters(r); });
    INFO(e);
    // the MLP's first kernel: [3 + 2 + 1, 4] in the file, [6, 5] in the model
    CHECK(test::contains(e, "'param/query/dense_0/kernel' has shape [6, 4], the model expects [6, 5]"));
  }
  SUBCASE("a name the model has, but not as a parameter") {
    // The file's parameter 'candidate/kernel' is an op node's name in this model.
    std::string yaml = test::replace_once(kTwoTower, "  candidate: {type: Dense", "  item_tower: {type: Dense");
    yaml = test::replace_once(yaml, "candidate: candidate", "candidate: candidate/kernel");
    yaml = test::replace_once(yaml, "task:", "  candidate/kernel: {op: Scale, input: item_tower, scale: 1.0}\ntask:");
    auto other = test::build_model(yaml, data);
    std::string e = test::user_error([&] { other->load_parameters(r); });
    INFO(e);
    CHECK(test::contains(e, "in the file but not in the model: candidate/bias, candidate/kernel"));
  }
}

TEST_CASE("Model::load refuses a file that is not a model") {
  test::TempDir dir("model_not");
  ArchiveWriter w;
  w.put_int("something", 1);
  w.save(dir.file("x.dagrad"));
  std::string e = test::user_error([&] { Model::load(dir.file("x.dagrad")); });
  CHECK(test::contains(e, "not a dagrad model"));
  e = test::user_error([&] { Model::load(dir.file("missing.dagrad")); });
  CHECK(test::contains(e, "missing.dagrad"));
}

TEST_CASE("layers may be written in any order: each is built after the values it reads") {
  Table t("interactions");
  t.add("a", FloatColumn{3, 0});
  t.add("b", FloatColumn{4, -2});
  const std::string in_order = "name: ops\n"
                               "inputs: {a: float, b: float}\n"
                               "layers:\n"
                               "  x: {type: Concat, inputs: [a, b]}\n"
                               "  q: {type: Dense, input: x, units: 2}\n"
                               "  c: {type: Dense, input: x, units: 2}\n"
                               "task: {type: Retrieval, query: q, candidate: c}\n";
  // The same layers, readers first: the same graph and the same initial parameters (the file's
  // order is kept wherever it already holds, so q's kernel is still drawn before c's).
  const std::string reversed = "name: ops\n"
                               "inputs: {a: float, b: float}\n"
                               "layers:\n"
                               "  q: {type: Dense, input: x, units: 2}\n"
                               "  c: {type: Dense, input: x, units: 2}\n"
                               "  x: {type: Concat, inputs: [a, b]}\n"
                               "task: {type: Retrieval, query: q, candidate: c}\n";
  auto m1 = test::build_model(in_order, test::tables_of(t), 3);
  auto m2 = test::build_model(reversed, test::tables_of(t), 3);
  for (const char* p : {"q/kernel", "c/kernel"}) CHECK_MESSAGE(test::param(*m1, p) == test::param(*m2, p), p);
  check_values(test::values_of(test::forward(*m2, t, "q")), test::values_of(test::forward(*m1, t, "q")));

  // A circle is an error naming its layers.
  std::string circle = test::replace_once(reversed, "x: {type: Concat, inputs: [a, b]}", "x: {type: Concat, inputs: [a, q]}");
  std::string e = test::user_error([&] { test::build_model(circle, test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:4:"));
  CHECK(test::contains(e, "layers read each other in a circle: q -> x -> q"));
  // An op written as a layer type says how to write it.
  e = test::user_error([&] { test::build_model(test::replace_once(in_order, "{type: Concat", "{type: Relu"), test::tables_of(t)); });
  CHECK(test::contains(e, "model.yaml:4:"));
  CHECK(test::contains(e, "'Relu' is an op: write `op: Relu`"));
}

TEST_CASE("models loaded from one file predict from 8 threads at once exactly as from one") {
  // Each thread loads its own Model (a Model owns its graph's buffers; docs/library.md); what they
  // share is process-wide: the registries, the oneDNN engine, the kernels' primitive caches. Batch
  // sizes differ between threads so that they create and look up primitives of several shapes
  // concurrently. Run under the sanitizer build as well (scripts/test.sh).
  test::TempDir dir("model_threads");
  Table t = interactions();
  const std::string path = dir.file("model.dagrad");
  test::build_model(kTwoTower, test::tables_of(t), 7)->save(path);
  Table rows("rows");
  StringColumn users, titles;
  IntColumn ts, items;
  for (int i = 0; i < 300; ++i) {
    users.push_back(std::string(1, static_cast<char>('a' + i % 4)));
    titles.push_back(i % 3 ? "red fox" : "blue fox fox");
    ts.push_back(i % 40);
    items.push_back(i);
  }
  rows.add("user", users);
  rows.add("ts", ts);
  rows.add("title", titles);
  rows.add("item", items);
  auto reference = Model::load(path);
  const Tensor want_q = reference->predict(rows, reference->value("query"), 64);
  const Tensor want_c = reference->predict(rows, reference->value("candidate"), 64);

  constexpr int kThreads = 8;
  std::vector<int> mismatches(kThreads, -1);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k)
    threads.emplace_back([&, k] {
      try {
        auto m = Model::load(path);
        int bad = 0;
        for (int round = 0; round < 5; ++round) {
          const int64_t batch = 16 + 16 * ((k + round) % 4);
          Tensor q = m->predict(rows, m->value("query"), batch);
          Tensor c = m->predict(rows, m->value("candidate"), batch);
          bad += test::values_of(q) != test::values_of(want_q);
          bad += test::values_of(c) != test::values_of(want_c);
        }
        mismatches[k] = bad;
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < kThreads; ++k) {
    INFO("thread " << k << ": " << errors[k]);
    CHECK(errors[k].empty());
    CHECK(mismatches[k] == 0);
  }
}
