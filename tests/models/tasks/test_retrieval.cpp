// models/tasks/retrieval.cpp: the in-batch softmax SUM loss of a 2-query batch and its gradients by
// hand, temperature, L2 normalisation, logQ correction (from a column and from streaming frequency
// estimation), removal of accidental hits, per-example weights, and FactorizedTopK through
// evaluate() on a tiny candidate table. The towers are the raw columns, so every number is exact.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "models/io/archive.hpp"
#include "models/model_test_util.hpp"
#include "ops/kernels/softmax_tiles.hpp"
#include "test_util.hpp"

using namespace dagrad;
using test::check_values;

namespace {

// query = [q0, q1], candidate = [c0, c1], straight from the columns.
std::string retrieval_model(const std::string& task_keys) {
  return "name: retrieval_test\n"
         "inputs: {q0: float, q1: float, c0: float, c1: float, item: int}\n"
         "layers:\n"
         "  query: {type: Concat, inputs: [q0, q1]}\n"
         "  candidate: {type: Concat, inputs: [c0, c1]}\n"
         "task: {type: Retrieval, query: query, candidate: candidate" + task_keys + "}\n";
}

// Two examples: query (1, 0) with candidate (1, 0), query (0, 1) with candidate (1, 1).
// Logits z = Q·Cᵀ = [[1, 1], [0, 1]], labels the diagonal.
//   row 1: logsumexp(1, 1) - 1 = ln 2                     = 0.69314718
//   row 2: logsumexp(0, 1) - 1 = ln(1 + e⁻¹)              = 0.31326169
//   sum                                                    = 1.00640887
Table batch(const FloatColumn& extra = {}, const std::string& extra_name = "") {
  Table t("train");
  t.add("q0", FloatColumn{1, 0});
  t.add("q1", FloatColumn{0, 1});
  t.add("c0", FloatColumn{1, 1});
  t.add("c1", FloatColumn{0, 1});
  t.add("item", IntColumn{10, 20});
  if (!extra_name.empty()) t.add(extra_name, extra);
  return t;
}

const std::vector<int64_t> kBoth = {0, 1};

// Candidates: id 1 = (1, 0), id 2 = (1, 1), id 3 = (0, -1).
DataTables three_candidates() {
  DataTables data;
  data.candidates = Table("candidates");
  data.candidates.add("c0", FloatColumn{1, 1, 0});
  data.candidates.add("c1", FloatColumn{0, 1, -1});
  data.candidates.add("item", IntColumn{1, 2, 3});
  return data;
}

double loss_of(const std::string& task_keys, const Table& t) {
  DataTables data = test::tables_of(t);
  auto m = test::build_model(retrieval_model(task_keys), data);
  return test::task_loss(*m, t, kBoth);
}

}  // namespace

TEST_CASE("Retrieval's loss is the SUM over the batch of the in-batch softmax cross-entropy") {
  Table t = batch();
  auto m = test::build_model(retrieval_model(""), test::tables_of(t));
  Graph& g = m->graph();
  int q0 = g.id("q0"), q1 = g.id("q1"), c0 = g.id("c0"), c1 = g.id("c1");
  for (int in : {q0, q1, c0, c1}) g.set_input_needs_grad(in, true);
  CHECK(test::task_loss(*m, t, kBoth) == doctest::Approx(1.00640887));
  // softmax rows: [0.5, 0.5] and [1/(1+e), e/(1+e)] = [0.26894142, 0.73105858]; minus the labels:
  // G = [[-0.5, 0.5], [0.26894142, -0.26894142]]
  // dQ = G·C: row 1 = -0.5·(1, 0) + 0.5·(1, 1) = (0, 0.5); row 2 = 0.26894142·((1, 0) - (1, 1)) = (0, -0.26894142)
  // dC = Gᵀ·Q: row 1 = -0.5·(1, 0) + 0.26894142·(0, 1) = (-0.5, 0.26894142); row 2 = (0.5, -0.26894142)
  Gradients grads;
  backward(g, m->task().loss(), grads);
  check_values(test::values_of(grads.grad(q0)), {0, 0});
  check_values(test::values_of(grads.grad(q1)), {0.5f, -0.26894142f});
  check_values(test::values_of(grads.grad(c0)), {-0.5f, 0.5f});
  check_values(test::values_of(grads.grad(c1)), {0.26894142f, -0.26894142f});
  CHECK(m->task().describe() == "Retrieval (in-batch softmax, sum loss)");
}

TEST_CASE("Retrieval's temperature divides the logits") {
  // temperature 0.5: z = [[2, 2], [0, 2]]
  //   row 1: ln 2 = 0.69314718; row 2: logsumexp(0, 2) - 2 = ln(1 + e⁻²) = 0.12692801; sum 0.82007519
  CHECK(loss_of(", temperature: 0.5", batch()) == doctest::Approx(0.82007519));
  std::string e = test::user_error([] { loss_of(", temperature: 0", batch()); });
  CHECK(test::contains(e, "temperature"));
  CHECK(test::contains(e, "> 0"));
}

TEST_CASE("Retrieval's normalize scores cosines") {
  // candidate (1, 1) becomes (1/√2, 1/√2): z = [[1, 0.70710678], [0, 0.70710678]]
  //   row 1: logsumexp(1, 0.70710678) - 1 = ln(1 + e^-0.29289322) = 0.55738576
  //   row 2: logsumexp(0, 0.70710678) - 0.70710678 = ln(1 + e^-0.70710678) = 0.40083353
  //   sum 0.95821929
  CHECK(loss_of(", normalize: true", batch()) == doctest::Approx(0.95821929));
}

TEST_CASE("Retrieval's logQ correction from a probability column subtracts log p from each candidate's logits") {
  // p = [0.5, 0.25]: z - log p = [[1 + ln 2, 1 + ln 4], [ln 2, 1 + ln 4]]
  //   row 1: ln(e^(1+ln2) + e^(1+ln4)) - (1 + ln 2) = ln(1 + 2) = 1.09861229
  //   row 2: ln(1 + e^(ln2 - 1 - ln4)) = ln(1 + 0.5/e) = 0.16884763
  //   sum 1.26745991
  Table t = batch({0.5f, 0.25f}, "p");
  CHECK(loss_of(", sampling_correction: {type: column, column: p}", t) == doctest::Approx(1.26745991));
  // A probability of 0 is clipped to 1e-6 (as TFRS): no infinity.
  Table zero = batch({0.0f, 0.25f}, "p");
  CHECK(std::isfinite(loss_of(", sampling_correction: {type: column, column: p}", zero)));
}

TEST_CASE("Retrieval's streaming logQ correction follows the frequency estimator; evaluation changes nothing") {
  // Rows: (query (1, 0), candidate (1, 0), item 10), (query (0, 1), candidate (1, 1), item 20),
  // (query (1, 1), candidate (0, 1), item 30). alpha 0.5, one hash: per step t and candidate,
  // B <- 0.5·B + 0.5·(t - A), A <- t, p = min(1, 1/B); the correction is -log p.
  Table t("train");
  t.add("q0", FloatColumn{1, 0, 1});
  t.add("q1", FloatColumn{0, 1, 1});
  t.add("c0", FloatColumn{1, 1, 0});
  t.add("c1", FloatColumn{0, 1, 1});
  t.add("item", IntColumn{10, 20, 30});
  DataTables data = test::tables_of(t);
  auto m = test::build_model(retrieval_model(", candidate_id: item, sampling_correction: {type: streaming, alpha: 0.5, hashes: 1}"), data);
  int corr = m->graph().id("task/correction");
  auto correction = [&] { return test::values_of(m->graph().value(corr)); };

  // step 1, items 10, 20: B10 = 0.5·0 + 0.5·(1 - 0) = 0.5, B20 = 0.5: p = min(1, 2) = 1 for both
  test::task_loss(*m, t, {0, 1});
  check_values(correction(), {0, 0});
  // step 2, items 10, 30: B10 = 0.25 + 0.5·(2 - 1) = 0.75 -> p 1; B30 = 0.5·(2 - 0) = 1 -> p 1
  test::task_loss(*m, t, {0, 2});
  check_values(correction(), {0, 0});
  // step 3, items 10, 20: B10 = 0.375 + 0.5 = 0.875 -> p 1; B20 = 0.25 + 0.5·(3 - 1) = 1.25 -> p 0.8
  // correction [0, -ln 0.8 = 0.22314355]; z = [[1, 1 + 0.22314355], [0, 1 + 0.22314355]]
  //   row 1: ln(1 + e^0.22314355) = ln 2.25 = 0.81093022
  //   row 2: ln(1 + e^-1.22314355) = ln(1 + 0.8/e) = 0.25797276
  double step3 = test::task_loss(*m, t, {0, 1});
  check_values(correction(), {0, 0.22314355f});
  CHECK(step3 == doctest::Approx(0.81093022 + 0.25797276));

  // Evaluation reads p without updating: the same batch gives the same loss, and again.
  Table eval = t.slice(0, 2, "test");
  Metrics e1 = m->task().evaluate(*m, eval, DataTables{}, 2);
  Metrics e2 = m->task().evaluate(*m, eval, DataTables{}, 2);
  REQUIRE(e1.size() == 1);
  CHECK(e1[0].first == "loss");
  CHECK(e1[0].second == doctest::Approx(0.81093022 + 0.25797276));
  CHECK(e2[0].second == e1[0].second);
  CHECK(test::task_loss(*m, t, {0, 1}, false) == doctest::Approx(step3));

  // step 4 sees t = 4 (not 4 + the evaluation batches), items 20, 30:
  // B20 = 0.625 + 0.5·(4 - 3) = 1.125 -> -ln(1/1.125) = 0.11778304
  // B30 = 0.5 + 0.5·(4 - 2) = 1.5     -> -ln(1/1.5)   = 0.40546511
  test::task_loss(*m, t, {1, 2});
  check_values(correction(), {0.11778304f, 0.40546511f});
}

TEST_CASE("Retrieval's remove_accidental_hits leaves out other columns of the same candidate") {
  // Both rows have candidate 7: row 1's column 2 and row 2's column 1 are the same candidate as
  // the label, so each row's softmax has one column left: the loss is 0.
  Table same = batch();
  Table t("train");
  for (const char* c : {"q0", "q1", "c0", "c1"}) t.add(c, same.floats(c));
  t.add("item", IntColumn{7, 7});
  CHECK(loss_of(", candidate_id: item, remove_accidental_hits: true", t) == doctest::Approx(0).epsilon(1e-6));
  // Without the option, 1.00640887 as for distinct candidates; with distinct ids nothing is removed.
  CHECK(loss_of(", candidate_id: item", t) == doctest::Approx(1.00640887));
  CHECK(loss_of(", candidate_id: item, remove_accidental_hits: true", batch()) == doctest::Approx(1.00640887));
  std::string e = test::user_error([] { loss_of(", remove_accidental_hits: true", batch()); });
  CHECK(test::contains(e, "needs candidate_id"));
}

TEST_CASE("Retrieval's per-example weights scale each row's loss") {
  // 2·ln 2 + 0.5·0.31326169 = 1.54292520
  Table t = batch({2.0f, 0.5f}, "w");
  CHECK(loss_of(", weights: w", t) == doctest::Approx(1.54292520));
}

TEST_CASE("Retrieval's evaluate gives the loss and FactorizedTopK against the candidate table") {
  DataTables data = three_candidates();
  // Queries and their true candidates:
  //   (1, 0) -> 1: scores 1, 1, 0: nothing scores strictly higher (the tie counts as a hit): rank 0
  //   (0, 1) -> 1: scores 0, 1, -1: candidate 2 is higher: rank 1
  //   (0, 1) -> 3: scores 0, 1, -1: two are higher: rank 2
  // top_1 = 1/3, top_2 = 2/3, top_3 = 3/3
  Table eval("test");
  eval.add("q0", FloatColumn{1, 0, 0});
  eval.add("q1", FloatColumn{0, 1, 1});
  eval.add("c0", FloatColumn{1, 1, 0});
  eval.add("c1", FloatColumn{0, 0, -1});
  eval.add("item", IntColumn{1, 1, 3});
  data.interactions = eval;
  auto m = test::build_model(retrieval_model(", candidate_id: item, metrics: {top_k: [1, 2, 3]}"), data);

  // The loss over evaluation batches of 3: in-batch candidates (1, 0), (1, 0), (0, -1):
  //   z = [[1, 1, 0], [0, 0, -1], [0, 0, -1]]
  //   row 1: ln(2e + 1) - 1 = ln(2 + e⁻¹) = 0.86199480; row 2: ln(2 + e⁻¹) - 0 = 0.86199480;
  //   row 3: ln(2 + e⁻¹) + 1 = 1.86199480; the batch's sum 3.58598441
  Metrics r = m->task().evaluate(*m, eval, data, 3);
  REQUIRE(r.size() == 4);
  CHECK(r[0].first == "loss");
  CHECK(r[0].second == doctest::Approx(3.58598441));
  CHECK(r[1].first == "factorized_top_k/top_1_categorical_accuracy");
  CHECK(r[1].second == doctest::Approx(1.0 / 3));
  CHECK(r[2].first == "factorized_top_k/top_2_categorical_accuracy");
  CHECK(r[2].second == doctest::Approx(2.0 / 3));
  CHECK(r[3].first == "factorized_top_k/top_3_categorical_accuracy");
  CHECK(r[3].second == doctest::Approx(1.0));

  // Batches of 2 and 1, weighted by their sizes: rows 1-2 give z = [[1, 1], [0, 0]]: ln 2 + ln 2;
  // row 3 alone gives 0. (2·1.38629436 + 1·0) / 3 = 0.92419624
  r = m->task().evaluate(*m, eval, data, 2);
  CHECK(r[0].second == doctest::Approx(0.92419624));
  CHECK(r[1].second == doctest::Approx(1.0 / 3));

  // A table reassigned in place (same object, same row count) is evaluated afresh: now every
  // query's true candidate is id 2, (1, 1), which scores highest for each: top_1 = 1. The in-batch
  // candidates are all (1, 1), so every row's logits are equal: 3 · ln 3 = 3.29583687.
  eval = Table("test");
  eval.add("q0", FloatColumn{1, 0, 0});
  eval.add("q1", FloatColumn{0, 1, 1});
  eval.add("c0", FloatColumn{1, 1, 1});
  eval.add("c1", FloatColumn{1, 1, 1});
  eval.add("item", IntColumn{2, 2, 2});
  r = m->task().evaluate(*m, eval, data, 3);
  CHECK(r[0].second == doctest::Approx(3.29583687));
  CHECK(r[1].second == doctest::Approx(1.0));
  // A candidate table that changed is read afresh too: without candidate 2 the true candidates
  // are missing, an error naming the first such row.
  DataTables fewer = data;
  fewer.candidates = data.candidates.slice(0, 1, "candidates");
  std::string e = test::user_error([&] { m->task().evaluate(*m, eval, fewer, 3); });
  CHECK(test::contains(e, "table 'test' row 0: candidate item=2 is not in the candidate table"));
}

TEST_CASE("Retrieval's per_user metrics rank every candidate per user, masking the training rows' candidates") {
  DataTables data = three_candidates();
  // User "a" (query (0, 1), from their first test row): scores 0, 1, -1; candidate 2 was rated in
  // training, so it is masked: ranking 1, 3. Truth {1, 3}: recall@1 1/2, ndcg@1 1, hit@1 1.
  // User "b" (query (1, 0)): scores 1, 1, 0: ranking 1, 2, 3 (tie to the lower row). Truth {3}:
  // recall@1 0. Averages: recall@1 0.25, ndcg@1 0.5, hit@1 0.5.
  Table eval("test");
  eval.add("q0", FloatColumn{0, 1, 5});  // the third row's query is not the user's first: unused
  eval.add("q1", FloatColumn{1, 0, 5});
  eval.add("c0", FloatColumn{1, 0, 0});
  eval.add("c1", FloatColumn{0, -1, -1});
  eval.add("item", IntColumn{1, 3, 3});
  eval.add("user", StringColumn{"a", "b", "a"});
  data.train = Table("train");
  data.train.add("q0", FloatColumn{0});
  data.train.add("q1", FloatColumn{1});
  data.train.add("c0", FloatColumn{1});
  data.train.add("c1", FloatColumn{1});
  data.train.add("item", IntColumn{2});
  data.train.add("user", StringColumn{"a"});
  data.interactions = eval;
  auto m = test::build_model(retrieval_model(", candidate_id: item, metrics: {top_k: [1], per_user: {user: user, k: [1]}}"), data);
  Metrics r = m->task().evaluate(*m, eval, data, 3);
  REQUIRE(r.size() == 5);
  CHECK(r[2].first == "recall@1");
  CHECK(r[2].second == doctest::Approx(0.25));
  CHECK(r[3].first == "ndcg@1");
  CHECK(r[3].second == doctest::Approx(0.5));
  CHECK(r[4].first == "hit@1");
  CHECK(r[4].second == doctest::Approx(0.5));
  std::string e = test::user_error([&] { test::build_model(retrieval_model(", metrics: {per_user: {user: user}}"), data); });
  CHECK(test::contains(e, "per_user ranking needs candidate_id"));
}

TEST_CASE("Retrieval's evaluate needs candidate_id for metrics and reads metrics.batch_size") {
  DataTables data;
  data.candidates = Table("candidates");
  data.candidates.add("c0", FloatColumn{1});
  data.candidates.add("c1", FloatColumn{0});
  data.candidates.add("item", IntColumn{10});
  Table t = batch();
  auto m = test::build_model(retrieval_model(""), data);
  std::string e = test::user_error([&] { m->task().evaluate(*m, t, data, 2); });
  CHECK(test::contains(e, "Retrieval metrics need candidate_id"));
  e = test::user_error([] { loss_of(", candidate_id: item, metrics: {batch_size: 0}", batch()); });
  CHECK(test::contains(e, "batch_size"));
  CHECK(test::contains(e, "> 0"));
}

TEST_CASE("Retrieval with fused: true builds one DotSoftmaxCrossEntropy and gives the same numbers") {
  Table t = batch();
  auto m = test::build_model(retrieval_model(", fused: true"), test::tables_of(t));
  Graph& g = m->graph();
  CHECK(g.node(g.id("task/cross_entropy")).op_name == "DotSoftmaxCrossEntropy");
  CHECK_THROWS_AS(g.id("task/logits"), UserError);  // no logits node
  int q1 = g.id("q1"), c0 = g.id("c0"), c1 = g.id("c1");
  for (int in : {q1, c0, c1}) g.set_input_needs_grad(in, true);
  // The same numbers as the first test case: loss 1.00640887 and its gradients.
  CHECK(test::task_loss(*m, t, kBoth) == doctest::Approx(1.00640887));
  Gradients grads;
  backward(g, m->task().loss(), grads);
  check_values(test::values_of(grads.grad(q1)), {0.5f, -0.26894142f});
  check_values(test::values_of(grads.grad(c0)), {-0.5f, 0.5f});
  check_values(test::values_of(grads.grad(c1)), {0.26894142f, -0.26894142f});
  // And each option as worked out above: temperature, normalize, logQ from a column, weights,
  // accidental hits.
  CHECK(loss_of(", fused: true, temperature: 0.5", batch()) == doctest::Approx(0.82007519));
  CHECK(loss_of(", fused: true, normalize: true", batch()) == doctest::Approx(0.95821929));
  CHECK(loss_of(", fused: true, sampling_correction: {type: column, column: p}", batch({0.5f, 0.25f}, "p")) ==
        doctest::Approx(1.26745991));
  CHECK(loss_of(", fused: true, weights: w", batch({2.0f, 0.5f}, "w")) == doctest::Approx(1.54292520));
  Table same = batch();
  Table hits("train");
  for (const char* c : {"q0", "q1", "c0", "c1"}) hits.add(c, same.floats(c));
  hits.add("item", IntColumn{7, 7});
  CHECK(loss_of(", fused: true, candidate_id: item, remove_accidental_hits: true", hits) ==
        doctest::Approx(0).epsilon(1e-6));
}

TEST_CASE("Retrieval precision: bf16 where the CPU has AVX512-BF16, refused at the key elsewhere and when unfused") {
  Table t = batch();
  CHECK_THROWS_WITH_AS(test::build_model(retrieval_model(", fused: false, precision: bf16"), test::tables_of(t)),
                       doctest::Contains("precision: bf16 runs in the fused softmax: it needs fused: true"), UserError);
  CHECK_THROWS_WITH_AS(test::build_model(retrieval_model(", precision: f16"), test::tables_of(t)), doctest::Contains("precision"),
                       UserError);
  if (!tiles::has_bf16()) {
    CHECK_THROWS_WITH_AS(test::build_model(retrieval_model(", precision: bf16"), test::tables_of(t)),
                         doctest::Contains("needs a CPU with AVX512-BF16"), UserError);
    return;
  }
  auto m = test::build_model(retrieval_model(", precision: bf16"), test::tables_of(t));
  CHECK(m->task().describe() == "Retrieval (in-batch softmax, sum loss, bf16 products)");
  // These inputs are exact in bf16, so the loss is the f32 one up to the accumulation order.
  CHECK(test::task_loss(*m, t, kBoth) == doctest::Approx(1.00640887).epsilon(1e-6));
}

TEST_CASE("Retrieval's evaluation loss from the top-k's scores equals the loss computed batch by batch") {
  // Dense towers over 3 features, 700 candidates (two tiles of scores), 450 evaluated rows whose
  // candidate features are their candidate's: evaluate takes the loss from the scores. With
  // loss_from_scores: false it computes each batch's logits as in training. Both must agree, with
  // every option of the loss (and the top-k metrics must not change).
  std::mt19937 rng(21);
  std::normal_distribution<float> n01;
  const int64_t nc = 700, n = 450;
  DataTables data;
  data.candidates = Table("candidates");
  FloatColumn cf[3];
  IntColumn cid;
  for (int64_t j = 0; j < nc; ++j) {
    for (auto& f : cf) f.push_back(n01(rng));
    cid.push_back(1000 + j / 2 * 2);  // ids shared by pairs of rows, so that hits can be removed
  }
  for (int k = 0; k < 3; ++k) data.candidates.add("c" + std::to_string(k), cf[k]);
  data.candidates.add("item", cid);
  Table eval("test");
  FloatColumn qf[3], ef[3], prob, weight;
  IntColumn eid;
  std::uniform_int_distribution<int64_t> any(0, nc - 1), popular(0, 9);
  std::uniform_real_distribution<float> p(0.001f, 0.3f), w(0.2f, 2.0f);
  for (int64_t i = 0; i < n; ++i) {
    // An even row: the first of its id, the row the id finds in the candidate table.
    const int64_t j = (i % 3 ? popular(rng) * 7 : any(rng)) / 2 * 2;
    for (int k = 0; k < 3; ++k) {
      qf[k].push_back(n01(rng));
      ef[k].push_back(cf[k][j]);
    }
    eid.push_back(cid[j]);
    prob.push_back(p(rng));
    weight.push_back(w(rng));
  }
  for (int k = 0; k < 3; ++k) {
    eval.add("q" + std::to_string(k), qf[k]);
    eval.add("c" + std::to_string(k), ef[k]);
  }
  eval.add("item", eid);
  eval.add("p", prob);
  eval.add("w", weight);
  data.interactions = eval;
  auto yaml = [](const std::string& keys) {
    return "name: retrieval_scores\n"
           "inputs: {q0: float, q1: float, q2: float, c0: float, c1: float, c2: float, item: int, p: float, w: float}\n"
           "layers:\n"
           "  qx: {type: Concat, inputs: [q0, q1, q2]}\n"
           "  cx: {type: Concat, inputs: [c0, c1, c2]}\n"
           "  query: {type: Dense, input: qx, units: 4}\n"
           "  candidate: {type: Dense, input: cx, units: 4}\n"
           "task: {type: Retrieval, query: query, candidate: candidate, candidate_id: item" + keys + "}\n";
  };
  for (const char* keys : {"", ", temperature: 0.2, normalize: true", ", sampling_correction: {type: column, column: p}",
                           ", weights: w", ", remove_accidental_hits: true",
                           ", sampling_correction: {type: streaming}, remove_accidental_hits: true, weights: w",
                           ", fused: false, temperature: 0.5", ", metrics: {id_based: true, top_k: [1, 10]}"}) {
    INFO(std::string(keys));
    auto scores = test::build_model(yaml(keys), data);
    const std::string graph_keys = std::string(keys).find("metrics:") != std::string::npos
                                       ? ", metrics: {id_based: true, top_k: [1, 10], loss_from_scores: false}"
                                       : std::string(keys) + ", metrics: {loss_from_scores: false}";
    auto graph = test::build_model(yaml(graph_keys), data);
    for (int64_t batch : {64, 450, 1000}) {
      INFO("batch " << batch);
      Metrics a = scores->task().evaluate(*scores, eval, data, batch);
      Metrics b = graph->task().evaluate(*graph, eval, data, batch);
      // The scores' path never runs the loss node; the batch-by-batch one does.
      CHECK_THROWS_AS(scores->graph().value(scores->task().loss()), InternalError);
      CHECK_NOTHROW(graph->graph().value(graph->task().loss()));
      REQUIRE(a.size() == b.size());
      CHECK(a[0].first == "loss");
      CHECK(a[0].second == doctest::Approx(b[0].second).epsilon(1e-5));
      for (size_t i = 1; i < a.size(); ++i) CHECK(a[i] == b[i]);
    }
  }
}

TEST_CASE("Retrieval's evaluation loss is computed batch by batch when candidate features differ from the table's") {
  // As the hand-worked evaluate case, but row 2's candidate features (0, 5) are not candidate 1's
  // (1, 0): the in-batch candidates are the rows' own: (1, 0), (0, 5), (0, -1), batches of 3:
  //   z = [[1, 0, 0], [0, 5, -1], [0, 5, -1]]
  //   row 1: ln(e + 2) - 1 = 0.55144471; row 2: ln(1 + e⁵ + e⁻¹) - 5 = 0.00917448;
  //   row 3: ln(1 + e⁵ + e⁻¹) + 1 = 6.00917448; the sum 6.56979368
  DataTables data = three_candidates();
  Table eval("test");
  eval.add("q0", FloatColumn{1, 0, 0});
  eval.add("q1", FloatColumn{0, 1, 1});
  eval.add("c0", FloatColumn{1, 0, 0});
  eval.add("c1", FloatColumn{0, 5, -1});
  eval.add("item", IntColumn{1, 1, 3});
  data.interactions = eval;
  auto m = test::build_model(retrieval_model(", candidate_id: item, metrics: {top_k: [1, 2, 3]}"), data);
  Metrics r = m->task().evaluate(*m, eval, data, 3);
  CHECK(r[0].second == doctest::Approx(6.56979368));
  CHECK(r[1].second == doctest::Approx(1.0 / 3));
}
