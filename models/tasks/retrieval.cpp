// Retrieval: in-batch softmax over query·candidateᵀ (TFRS tfrs.tasks.Retrieval): labels are the
// identity, the loss is the SUM over the batch of softmax cross-entropy. Options: temperature,
// L2-normalised towers, logQ correction (a sampling probability per candidate, given as a column
// or estimated by streaming frequency estimation, Yi et al. 2019), removal of accidental hits,
// per-example weights. Metrics: FactorizedTopK against a candidate table (metrics: top_k, id_based,
// batch_size = rows per forward pass when embedding queries and candidates), and the loss.
// The softmax is computed blockwise from the towers (DotSoftmaxCrossEntropy, the logits never in
// memory); fused: false builds it from MatMul, Scale and SoftmaxCrossEntropy instead. Evaluation
// takes the loss from the top-k's scores when the evaluated rows' candidates are the candidate
// table's (metrics::InBatchSoftmaxLoss; metrics.loss_from_scores: false turns that off).
#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>

#include "graph/collective.hpp"

#include "models/tasks/frequency_estimator.hpp"
#include "models/metrics/factorized_top_k.hpp"
#include "models/metrics/full_ranking.hpp"
#include "models/metrics/in_batch_loss.hpp"
#include "models/metrics/mean_loss.hpp"
#include "models/model.hpp"
#include "models/task.hpp"

namespace dagrad {
namespace {

class Retrieval : public RetrievalTask {
 public:
  static Schema keys() {
    return {
        Key::value("query", "the query tower's output, [batch, d]").required(),
        Key::value("candidate", "the candidate tower's output, [batch, d]").required(),
        Key::column("candidate_id", "the column identifying a candidate (evaluation, accidental hits, frequency estimation)")
            .otherwise(""),
        Key::number("temperature", "the logits q·cᵀ are divided by it").in(Range::greater_than(0)).otherwise(1.0),
        Key::boolean("normalize", "L2-normalise both towers' outputs first").otherwise(false),
        Key::boolean("remove_accidental_hits", "leave a row's other examples of its own candidate out of its softmax")
            .otherwise(false),
        Key::map("sampling_correction",
                 {Key::choice("type", {"streaming", "column"},
                              "streaming: estimate each candidate's sampling probability from the batches (Yi et al. "
                              "2019); column: read it from a column").required(),
                  Key::number("alpha", "streaming: learning rate of the step estimates")
                      .in(Range::greater_than(0) & Range::at_most(1)).otherwise(0.01),
                  Key::integer("hashes", "streaming: hash functions (several: Algorithm 3)")
                      .in(Range::at_least(1) & Range::at_most(16)).otherwise(1),
                  Key::integer("buckets", "streaming: hash buckets per function").in(Range::greater_than(0)).otherwise(1 << 20),
                  Key::column("column", "column: the column holding each example's sampling probability")},
                 "logQ correction: subtract log p(candidate) from its logits"),
        Key::column("weights", "a column of per-example loss weights").otherwise(""),
        Key::map("metrics",
                 {Key::integers("top_k", "the k of FactorizedTopK (fraction of queries whose true candidate is in "
                                         "the top k of all candidates)")
                      .in(Range::at_least(1)).otherwise(std::vector<int64_t>{1, 5, 10, 50, 100}),
                  Key::boolean("id_based", "a hit is any candidate with the true candidate's id (else the true row)")
                      .otherwise(false),
                  Key::integer("batch_size", "rows per forward pass when embedding queries and candidates")
                      .in(Range::greater_than(0)).otherwise(int64_t{kDefaultEmbedBatch}),
                  Key::boolean("loss_from_scores",
                               "take the evaluation loss from the top-k's scores of the queries against the "
                               "candidate table, when every evaluated row's candidate features are those of its "
                               "row there (else, and when false, each batch's logits are computed as in training)")
                      .otherwise(true),
                  Key::map("per_user",
                           {Key::column("user", "the column identifying a user").required(),
                            Key::integers("k", "the cut-offs").in(Range::at_least(1)).otherwise(std::vector<int64_t>{10})},
                           "also rank every candidate per user (RecBole's full ranking): the user's query (from "
                           "their first evaluated row) against all candidates, the candidates of their training "
                           "rows (and validation rows, when evaluating test) masked, their evaluated rows' "
                           "candidates the truth: recall@k, ndcg@k and hit@k averaged over users")},
                 "evaluation"),
        Key::boolean("fused", "compute the softmax blockwise from the towers (DotSoftmaxCrossEntropy), each block's "
                              "logits in cache and the [batch, batch] logits never in memory; false builds them "
                              "from MatMul, Scale and SoftmaxCrossEntropy (docs/performance.md)").otherwise(true),
        Key::choice("precision", {"f32", "bf16"},
                    "the fused softmax's three products (logits and both gradients): f32, or bf16 with f32 "
                    "accumulation on CPUs with AVX512-BF16 (refused elsewhere); the softmax itself stays f32")
            .otherwise(std::string("f32"))};
  }

  explicit Retrieval(LayerContext& ctx) {
    const ConfigNode& cfg = ctx.cfg;
    const Keys& k = ctx.keys;
    prefix_ = ctx.name;
    query_out_ = ctx.input("query");
    candidate_out_ = ctx.input("candidate");
    candidate_id_ = k.string("candidate_id");
    temperature_ = k.number("temperature");
    normalize_ = k.boolean("normalize");
    remove_hits_ = k.boolean("remove_accidental_hits");
    fused_ = k.boolean("fused");
    bf16_ = k.string("precision") == "bf16";
    if (bf16_ && !fused_) k.at("precision").fail("bf16 runs in the fused softmax: it needs fused: true");
    weight_col_ = k.string("weights");
    if (remove_hits_ && candidate_id_.empty()) k.at("remove_accidental_hits").fail("needs candidate_id (the column identifying a candidate)");
    if (k.has("sampling_correction")) {
      Keys sc = k.sub("sampling_correction");
      std::string type = sc.string("type");
      auto only = [&](const char* key, const char* for_type) {
        if (sc.has(key)) sc.at(key).fail(std::string("'") + key + "' applies to sampling_correction type " + for_type);
      };
      if (type == "streaming") {
        only("column", "column");
        if (candidate_id_.empty()) sc.node().fail("streaming frequency estimation needs candidate_id");
        estimator_ = std::make_unique<FrequencyEstimator>(sc.integer("buckets"), static_cast<int>(sc.integer("hashes")),
                                                          sc.number("alpha"));
      } else {
        for (const char* key : {"alpha", "hashes", "buckets"}) only(key, "streaming");
        if (!sc.has("column")) sc.node().fail("sampling_correction type column needs 'column'");
        probability_col_ = sc.string("column");
      }
    }
    Keys mc = k.sub("metrics");
    ks_ = mc.integers("top_k");
    embed_batch_ = mc.integer("batch_size");
    id_based_ = mc.boolean("id_based");
    loss_from_scores_ = mc.boolean("loss_from_scores");
    if (id_based_ && candidate_id_.empty()) mc.at("id_based").fail("needs candidate_id");
    if (mc.has("per_user")) {
      Keys pu = mc.sub("per_user");
      if (candidate_id_.empty()) pu.node().fail("per_user ranking needs candidate_id");
      per_user_col_ = pu.string("user");
      per_user_ks_ = pu.integers("k");
    }

    const Shape& qs = ctx.graph.node(query_out_).type.shape;
    const Shape& cs = ctx.graph.node(candidate_out_).type.shape;
    if (qs.size() != 2 || cs.size() != 2 || qs[1] != cs[1] || qs[1] < 0)
      cfg.fail("query " + shape_str(qs) + " and candidate " + shape_str(cs) +
               " must both be [batch, d] with the same d");
    int q = query_out_, c = candidate_out_;
    if (normalize_) {
      q = ctx.add("L2Normalize", {q}, {}, "query_normalized");
      c = ctx.add("L2Normalize", {c}, {}, "candidate_normalized");
    }
    query_ = q;
    candidate_ = c;
    // One DotSoftmaxCrossEntropy over q and c, blockwise, without the [B, B] logits in memory; or
    // with `fused: false` MatMul, Scale and SoftmaxCrossEntropy, the logits a node.
    labels_ = ctx.graph.input(ctx.name + "/labels", {{kBatch}, DType::i32});
    // Data-parallel (graph/collective.hpp): the softmax runs over the GLOBAL batch. Each rank's
    // candidates are all-gathered (AllGatherRows, whose backward reduce-scatters their gradient),
    // so that each rank scores its queries against every rank's candidates, with the candidates'
    // ids and corrections gathered alike in prepare_batch: the loss and gradients equal one
    // process at the global batch. In evaluation the gather is the identity.
    if (distributed()) {
      owners_ = ctx.graph.input(ctx.name + "/owners", {{kBatch}, DType::i32});
      c = ctx.add("AllGatherRows", {c, owners_}, {}, "candidate_global");
    }
    NamedInputs in;
    Attrs attrs;
    if (fused_) {
      in = {{"q", q}, {"c", c}, {"labels", labels_}};
      if (temperature_ != 1.0) attrs.set("scale", 1.0 / temperature_);
      if (bf16_) attrs.set("bf16", true);
    } else {
      int logits = ctx.add("MatMul", {q, c}, {{"transpose_b", true}}, "logits");
      if (temperature_ != 1.0) logits = ctx.add("Scale", {logits}, {{"scale", 1.0 / temperature_}}, "scaled_logits");
      in = {{"logits", logits}, {"labels", labels_}};
    }
    if (!weight_col_.empty()) {
      weights_ = ctx.graph.input(ctx.name + "/weights", {{kBatch}, DType::f32});
      in.add("weights", weights_);
    }
    if (estimator_ || !probability_col_.empty()) {
      correction_ = ctx.graph.input(ctx.name + "/correction", {{kBatch}, DType::f32});
      in.add("correction", correction_);
    }
    if (remove_hits_) {
      candidate_ids_ = ctx.graph.input(ctx.name + "/candidate_ids", {{kBatch}, DType::i32});
      in.add("candidate_ids", candidate_ids_);
    }
    int per_row = -1;
    try {
      per_row = ctx.add(fused_ ? "DotSoftmaxCrossEntropy" : "SoftmaxCrossEntropy", in, attrs, "cross_entropy");
    } catch (const UserError& e) {
      if (!bf16_) throw;
      k.at("precision").fail(e.what());  // the CPU lacks AVX512-BF16: say so at the key
    }
    loss_ = ctx.add("ReduceSum", {per_row}, {}, "loss");
  }

  int loss() const override { return loss_; }

  std::vector<std::string> columns() const override {
    std::vector<std::string> c;
    for (const auto* s : {&candidate_id_, &weight_col_, &probability_col_, &per_user_col_})
      if (!s->empty()) c.push_back(*s);
    return c;
  }

  void prepare_batch(Graph& g, const Table& t, std::span<const int64_t> rows, bool training) override {
    const int64_t b = static_cast<int64_t>(rows.size());
    // The global batch in a data-parallel training step: this rank's rows are global rows
    // [offset, offset + b) of g_rows, and the candidate columns (correction, ids) cover all g_rows.
    Collective* w = training && owners_ >= 0 ? distributed() : nullptr;
    int64_t offset = 0, g_rows = b;
    std::vector<int64_t> counts;
    if (w) {
      counts = w->allgather(b);
      g_rows = 0;
      for (int r = 0; r < w->size(); ++r) {
        if (r == w->rank()) offset = g_rows;
        g_rows += counts[static_cast<size_t>(r)];
      }
    }
    if (owners_ >= 0) {
      Tensor own = grown_view(owners_buf_, {g_rows}, DType::i32);
      int64_t k = 0;
      if (w) {
        for (int r = 0; r < w->size(); ++r)
          for (int64_t i = 0; i < counts[static_cast<size_t>(r)]; ++i) own.i32()[k++] = r;
      } else {
        for (; k < b; ++k) own.i32()[k] = 0;
      }
      g.set_input(owners_, own);
    }
    Tensor labels = grown_view(labels_buf_, {b}, DType::i32);
    for (int64_t i = 0; i < b; ++i) labels.i32()[i] = static_cast<int32_t>(offset + i);
    g.set_input(labels_, labels);
    if (weights_ >= 0) {
      Tensor w_in = grown_view(weights_buf_, {b});
      gather_float(t, weight_col_, rows, w_in.f32());
      g.set_input(weights_, w_in);
    }
    // Gathers per-row values of every rank into the global batch's (rank order).
    auto gather = [&](const void* mine, void* all, int64_t elem_bytes) {
      std::vector<int64_t> bytes(counts.size());
      for (size_t r = 0; r < counts.size(); ++r) bytes[r] = counts[r] * elem_bytes;
      w->allgatherv(mine, all, bytes);
    };
    if (correction_ >= 0) {
      Tensor corr = grown_view(correction_buf_, {g_rows});
      float* p = corr.f32();
      if (estimator_) {
        const IntColumn& ids = t.ints(candidate_id_);
        ids_tmp_.resize(b);
        for (int64_t i = 0; i < b; ++i) ids_tmp_[i] = ids[rows[i]];
        if (w) {  // every rank updates its estimator with the global batch's ids: the same state everywhere
          global_ids_.resize(static_cast<size_t>(g_rows));
          gather(ids_tmp_.data(), global_ids_.data(), sizeof(int64_t));
          ids_tmp_.swap(global_ids_);
        }
        if (training) {
          estimator_->update(ids_tmp_, std::span<float>(p, g_rows));
        } else {
          for (int64_t i = 0; i < b; ++i) p[i] = estimator_->probability(ids_tmp_[i]);
        }
      } else {
        float* mine = w ? grown_view(local_buf_, {b}).f32() : p;
        gather_float(t, probability_col_, rows, mine);
        for (int64_t i = 0; i < b; ++i) mine[i] = std::clamp(mine[i], 1e-6f, 1.0f);  // as TFRS clips
        if (w) gather(mine, p, sizeof(float));
      }
      for (int64_t i = 0; i < g_rows; ++i) p[i] = -std::log(p[i]);  // logits - log p
      g.set_input(correction_, corr);
    }
    if (candidate_ids_ >= 0) {
      Tensor ids = grown_view(ids_buf_, {g_rows}, DType::i32);
      const IntColumn& col = t.ints(candidate_id_);
      int32_t* mine = w ? grown_view(local_ids_buf_, {b}, DType::i32).i32() : ids.i32();
      for (int64_t i = 0; i < b; ++i) mine[i] = static_cast<int32_t>(col[rows[i]]);
      if (w) gather(mine, ids.i32(), sizeof(int32_t));
      g.set_input(candidate_ids_, ids);
    }
  }

  Metrics evaluate(Model& m, const Table& eval, const DataTables& data, int64_t batch_size) override {
    Metrics out;
    if (eval.rows() == 0) return out;
    std::optional<double> loss;
    Metrics top = top_k(m, eval, data, batch_size, &loss);
    if (!loss) {
      // Loss over batches of the training size, weighted by batch size (as Keras evaluate).
      metrics::MeanLoss mean;
      const EncodedTable& enc = cached(m, eval, {loss_});
      for_each_batch(static_cast<int64_t>(eval.rows()), batch_size, [&](std::span<const int64_t> rows) {
        m.feeder().feed(m.graph(), enc, rows);
        prepare_batch(m.graph(), eval, rows, false);
        m.graph().forward(std::span<const int>(&loss_, 1));
        mean.update(m.graph().value(loss_).f32()[0], static_cast<int64_t>(rows.size()));
      });
      loss = mean.result();
    }
    out.push_back({"loss", *loss});
    for (auto& metric : top) out.push_back(std::move(metric));
    return out;
  }

  Metrics evaluate_top_k(Model& m, const Table& eval, const DataTables& data) override {
    return top_k(m, eval, data, 0, nullptr);
  }

 private:
  // FactorizedTopK (and per-user ranking) of `eval`'s queries against the candidate table. With
  // `loss`, also the evaluation loss over batches of loss_batch rows, from the same scores
  // (metrics::InBatchSoftmaxLoss), when the metrics ask for it and every evaluated row's candidate
  // features equal its candidate-table row's; *loss is left empty otherwise.
  Metrics top_k(Model& m, const Table& eval, const DataTables& data, int64_t loss_batch, std::optional<double>* loss) {
    Metrics out;
    if (eval.rows() == 0 || data.candidates.rows() == 0) return out;
    if (candidate_id_.empty())
      throw UserError("Retrieval metrics need candidate_id: the column that finds each example's candidate in the candidate table");
    Tensor cand = m.predict(cached(m, data.candidates, {candidate_}), candidate_, embed_batch_);
    Tensor queries = m.predict(cached(m, eval, {query_}), query_, embed_batch_);
    const IntColumn& cids = data.candidates.ints(candidate_id_);
    if (indexed_candidates_ != data.candidates.contents_id()) {
      index_of_.clear();
      for (size_t i = 0; i < cids.size(); ++i) index_of_.emplace(cids[i], static_cast<int32_t>(i));
      indexed_candidates_ = data.candidates.contents_id();
    }
    Tensor truth({static_cast<int64_t>(eval.rows())}, DType::i32);
    const IntColumn& eids = eval.ints(candidate_id_);
    for (size_t r = 0; r < eval.rows(); ++r) {
      auto it = index_of_.find(eids[r]);
      if (it == index_of_.end())
        throw UserError("table '" + eval.name() + "' row " + std::to_string(r) + ": candidate " + candidate_id_ + "=" +
                        std::to_string(eids[r]) + " is not in the candidate table");
      truth.i32()[r] = it->second;
    }
    Tensor ids;
    if (id_based_) {
      ids = Tensor({static_cast<int64_t>(cids.size())}, DType::i32);
      for (size_t i = 0; i < cids.size(); ++i) ids.i32()[i] = static_cast<int32_t>(cids[i]);
    }
    metrics::FactorizedTopK top(ks_);
    if (loss && loss_from_scores_ && candidates_match(m, eval, data.candidates, truth)) {
      // The loss from the same scores: each batch's queries against the candidates reordered with
      // the batch's own first (metrics::InBatchSoftmaxLoss); the accuracy does not depend on the
      // order (ties go by the candidate's row in the table).
      LossColumns columns;
      metrics::InBatchSoftmaxLoss in_batch(loss_rows(eval, truth, columns), loss_batch,
                                           static_cast<float>(1.0 / temperature_));
      in_batch.score(queries, cand, ids, top);
      *loss = in_batch.result();
    } else if (id_based_) {
      top.update(queries, cand, ids, truth);
    } else {
      top.update(queries, cand, truth);
    }
    const std::vector<double> acc = top.result();
    for (size_t i = 0; i < ks_.size(); ++i)
      out.push_back({"factorized_top_k/top_" + std::to_string(ks_[i]) + "_categorical_accuracy", acc[i]});
    if (!per_user_col_.empty()) {
      std::vector<const Table*> seen{&data.train};
      if (eval.name() == "test" && data.validation.rows() > 0) seen.push_back(&data.validation);
      for (auto& metric : per_user_ranking(queries, cand, eval, truth, seen)) out.push_back(std::move(metric));
    }
    return out;
  }

  // Whether every row of `eval` feeds the candidate tower the same encoded values as its row
  // truth[r] of the candidate table (then the tower gives it the same vector).
  // Remembered for the last pair of tables, as their encodings are (cached()): evaluating the same
  // test table each epoch checks it once.
  bool candidates_match(Model& m, const Table& eval, const Table& candidates, const Tensor& truth) {
    const auto key = std::make_pair(eval.contents_id(), candidates.contents_id());
    if (match_key_ != key) {
      const int64_t n = truth.dim(0);
      match_ = same_encoded_rows(cached(m, eval, {candidate_}), cached(m, candidates, {candidate_}),
                                 std::span<const int32_t>(truth.i32(), static_cast<size_t>(n)));
      match_key_ = key;
    }
    return match_;
  }

  // The evaluated rows' truth, correction, weights and ids, as prepare_batch gives them to the
  // loss in evaluation (the columns held in `c`).
  struct LossColumns {
    std::vector<float> corr, weights;
    std::vector<int32_t> ids;
  };
  metrics::InBatchSoftmaxLoss::Rows loss_rows(const Table& eval, const Tensor& truth, LossColumns& c) const {
    const int64_t n = static_cast<int64_t>(eval.rows());
    std::vector<int64_t> all(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) all[r] = r;
    if (!weight_col_.empty()) {
      c.weights.resize(static_cast<size_t>(n));
      gather_float(eval, weight_col_, all, c.weights.data());
    }
    if (estimator_ || !probability_col_.empty()) {
      c.corr.resize(static_cast<size_t>(n));
      if (estimator_) {
        const IntColumn& ids = eval.ints(candidate_id_);
        for (int64_t r = 0; r < n; ++r) c.corr[r] = estimator_->probability(ids[r]);
      } else {
        gather_float(eval, probability_col_, all, c.corr.data());
        for (float& p : c.corr) p = std::clamp(p, 1e-6f, 1.0f);  // as TFRS clips
      }
      for (float& p : c.corr) p = -std::log(p);
    }
    if (remove_hits_) {
      const IntColumn& ids = eval.ints(candidate_id_);
      c.ids.resize(static_cast<size_t>(n));
      for (int64_t r = 0; r < n; ++r) c.ids[r] = static_cast<int32_t>(ids[r]);
    }
    return {std::span<const int32_t>(truth.i32(), static_cast<size_t>(n)), c.corr, c.weights, c.ids};
  }

 public:
  void save(ArchiveWriter& w) const override {
    if (!estimator_) return;
    w.put_tensor(prefix_ + "/frequency/last_seen", estimator_->last_seen());
    w.put_tensor(prefix_ + "/frequency/gap", estimator_->gap());
    w.put_int(prefix_ + "/frequency/step", estimator_->step());
  }

  void load(const ArchiveReader& r) override {
    if (!estimator_) return;
    estimator_->last_seen().copy_from(r.tensor(prefix_ + "/frequency/last_seen", estimator_->last_seen().shape()));
    estimator_->gap().copy_from(r.tensor(prefix_ + "/frequency/gap", estimator_->gap().shape()));
    estimator_->step_ref() = r.integer(prefix_ + "/frequency/step");
  }

  std::string describe() const override {
    std::string s = "Retrieval (in-batch softmax, sum loss";
    if (temperature_ != 1.0) s += ", temperature " + std::to_string(temperature_);
    if (normalize_) s += ", L2-normalised";
    if (estimator_) s += ", logQ correction by streaming frequency estimation (alpha " + std::to_string(estimator_->alpha()) + ")";
    if (!probability_col_.empty()) s += ", logQ correction from column " + probability_col_;
    if (remove_hits_) s += ", accidental hits removed";
    if (!fused_) s += ", unfused logits";
    if (bf16_) s += ", bf16 products";
    return s + ")";
  }

  int query_node() const override { return query_; }
  int candidate_node() const override { return candidate_; }
  const std::string& candidate_id_column() const override { return candidate_id_; }

 private:
  // A user's key in the per_user column, whatever its type.
  static std::string user_key(const Column& c, size_t row) {
    if (auto* s = std::get_if<StringColumn>(&c)) return (*s)[row];
    if (auto* i = std::get_if<IntColumn>(&c)) return std::to_string((*i)[row]);
    return std::to_string(std::get<FloatColumn>(c)[row]);
  }

  // recall@k, ndcg@k, hit@k of every user of `eval` (metrics::full_ranking): queries are the
  // eval rows' query embeddings, truth each row's candidate row; `seen` the tables whose
  // candidates are masked for their users.
  Metrics per_user_ranking(const Tensor& queries, const Tensor& cand, const Table& eval, const Tensor& truth,
                           const std::vector<const Table*>& seen) {
    const Column& users = eval.column(per_user_col_);
    std::unordered_map<std::string, size_t> user_index;
    std::vector<metrics::UserTruth> per_user;
    std::vector<int64_t> first_row;
    for (size_t r = 0; r < eval.rows(); ++r) {
      auto [it, fresh] = user_index.emplace(user_key(users, r), per_user.size());
      if (fresh) {
        per_user.emplace_back();
        first_row.push_back(static_cast<int64_t>(r));
      }
      per_user[it->second].truth.push_back(truth.i32()[r]);
    }
    for (const Table* t : seen) {
      const Column& tu = t->column(per_user_col_);
      const IntColumn& ids = t->ints(candidate_id_);
      for (size_t r = 0; r < t->rows(); ++r) {
        auto u = user_index.find(user_key(tu, r));
        auto c = index_of_.find(ids[r]);
        if (u != user_index.end() && c != index_of_.end()) per_user[u->second].masked.push_back(c->second);
      }
    }
    const int64_t d = queries.dim(1);
    Tensor q({static_cast<int64_t>(first_row.size()), d});
    for (size_t u = 0; u < first_row.size(); ++u)
      std::copy_n(queries.f32() + first_row[u] * d, d, q.f32() + static_cast<int64_t>(u) * d);
    metrics::FullRankingResult r = metrics::full_ranking(q, cand, per_user, per_user_ks_);
    Metrics out;
    for (size_t i = 0; i < per_user_ks_.size(); ++i) {
      const std::string k = std::to_string(per_user_ks_[i]);
      out.push_back({"recall@" + k, r.recall[i]});
      out.push_back({"ndcg@" + k, r.ndcg[i]});
      out.push_back({"hit@" + k, r.hit[i]});
    }
    return out;
  }

  static void gather_float(const Table& t, const std::string& col, std::span<const int64_t> rows, float* out) {
    const Column& c = t.column(col);
    if (auto* f = std::get_if<FloatColumn>(&c))
      for (size_t i = 0; i < rows.size(); ++i) out[i] = (*f)[rows[i]];
    else
      for (size_t i = 0; i < rows.size(); ++i) out[i] = static_cast<float>(t.ints(col)[rows[i]]);
  }

  // Encodings of the tables evaluated (the test table, the candidates), kept between evaluations.
  // Keyed by the table's contents, not its address: a table reassigned in place is encoded afresh.
  const EncodedTable& cached(Model& m, const Table& t, std::vector<int> targets) {
    auto key = std::make_pair(t.contents_id(), targets.front());
    auto it = encoded_.find(key);
    if (it == encoded_.end()) {
      if (encoded_.size() >= 8) encoded_.clear();  // tables come and go: keep only the recent ones
      it = encoded_.emplace(key, m.encode(t, targets)).first;
    }
    return it->second;
  }

  int query_out_ = -1, candidate_out_ = -1, query_ = -1, candidate_ = -1;
  int loss_ = -1, labels_ = -1, weights_ = -1, correction_ = -1, candidate_ids_ = -1, owners_ = -1;
  std::string prefix_;  // "task", or "task/<name>" inside a MultiTask: its inputs and saved state
  std::string candidate_id_, weight_col_, probability_col_, per_user_col_;
  std::vector<int64_t> per_user_ks_;
  double temperature_ = 1.0;
  bool normalize_ = false, remove_hits_ = false, id_based_ = false, fused_ = false, bf16_ = false;
  bool loss_from_scores_ = true;
  std::pair<uint64_t, uint64_t> match_key_{0, 0};  // candidates_match's last tables (0: none yet)
  bool match_ = false;
  std::vector<int64_t> ks_;
  std::unique_ptr<FrequencyEstimator> estimator_;
  Tensor labels_buf_, weights_buf_, correction_buf_, ids_buf_, owners_buf_, local_buf_, local_ids_buf_;
  std::vector<int64_t> ids_tmp_, global_ids_;
  static constexpr int64_t kDefaultEmbedBatch = 4096;
  int64_t embed_batch_ = kDefaultEmbedBatch;  // rows per forward pass when embedding queries and candidates for metrics
  std::map<std::pair<uint64_t, int>, EncodedTable> encoded_;
  std::unordered_map<int64_t, int32_t> index_of_;  // candidate id -> row of the candidate table
  uint64_t indexed_candidates_ = 0;                // contents_id of the table index_of_ describes
};

std::unique_ptr<Task> build_retrieval(LayerContext& ctx) { return std::make_unique<Retrieval>(ctx); }

}  // namespace

DAGRAD_REGISTER_TASK(build_retrieval, "Retrieval",
                     "in-batch softmax over query·candidateᵀ, the other examples' candidates as negatives (TFRS Retrieval)",
                     Retrieval::keys);

}  // namespace dagrad
