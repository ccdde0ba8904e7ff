#include "bench/bench_run.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "autodiff/backward.hpp"
#include "bench/bench_util.hpp"
#include "models/optimizers/optimizer.hpp"
#include "graph/dnnl_context.hpp"
#include "models/run/run.hpp"
#include "models/task.hpp"

namespace dagrad::bench {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Adagrad per updated element: g², the add, sqrt, + epsilon, lr·g, the division, the subtraction.
constexpr double kAdagradFlopsPerElement = 7;

// FLOPs of one training step on the first `batch` rows: forward to the loss, backward, optimizer.
double step_flops(Model& m, const EncodedTable& enc, const Table& train, int64_t batch) {
  Graph& g = m.graph();
  const int loss = m.task().loss();
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  std::iota(rows.begin(), rows.end(), 0);
  m.feeder().feed(g, enc, rows);
  m.task().prepare_batch(g, train, rows, false);
  g.forward(std::span<const int>(&loss, 1));
  Gradients grads;
  backward(g, loss, grads);
  double opt = 0;
  for (int id : g.params()) {
    if (!g.node(id).needs_grad) continue;
    const Tensor& v = g.param_value(id);
    opt += grads.sparse(id) ? static_cast<double>(grads.rows(id).size()) * static_cast<double>(v.dim(1))
                            : static_cast<double>(v.size());
  }
  return g.forward_flops(std::span<const int>(&loss, 1)) + backward_flops(g, loss) + kAdagradFlopsPerElement * opt;
}

// The per-node profile as JSON, per training step, largest first, plus the step's other parts.
std::string profile_json(const Graph& g, const Profile& p) {
  const double steps = static_cast<double>(std::max<int64_t>(1, p.steps));
  std::vector<int> ids;
  for (int i = 0; i < g.size(); ++i)
    if (g.node(i).kind == NodeKind::Op && (p.forward_calls[i] || p.backward_calls[i])) ids.push_back(i);
  std::sort(ids.begin(), ids.end(), [&](int a, int b) {
    return p.forward_s[a] + p.backward_s[a] > p.forward_s[b] + p.backward_s[b];
  });
  std::vector<std::string> items;
  for (int i : ids)
    items.push_back(Json()
                        .str("node", g.node(i).name)
                        .str("op", g.node(i).op_name)
                        .num("forward_ms", 1e3 * p.forward_s[i] / steps)
                        .num("backward_ms", 1e3 * p.backward_s[i] / steps)
                        .text());
  return Json()
      .num("steps", steps)
      .num("clear_grads_ms", 1e3 * p.clear_s / steps)
      .num("feed_ms", 1e3 * p.feed_s / steps)
      .num("optimizer_ms", 1e3 * p.optimizer_s / steps)
      .raw("nodes", json_array(items))
      .text();
}

// Writes an encoded table's inputs (padded to a rectangle) as raw little-endian arrays plus one
// JSON line per array in `meta`: name, dtype, rows, width.
void export_table(Model& m, const EncodedTable& e, const std::string& table, const std::string& dir,
                  std::vector<std::string>& meta) {
  for (const auto& [id, col] : e.inputs) {
    const std::string name = m.graph().node(id).name;
    const int64_t rows = static_cast<int64_t>(col.rows());
    int64_t width = col.width;
    if (col.ragged) {
      width = 1;
      for (int64_t r = 0; r < rows; ++r) width = std::max(width, col.offsets[r + 1] - col.offsets[r]);
    }
    const std::string file = dir + "/" + table + "." + name + ".bin";
    std::ofstream f(file, std::ios::binary);
    if (col.dtype == DType::f32) {
      f.write(reinterpret_cast<const char*>(col.values.data()), static_cast<std::streamsize>(col.values.size() * 4));
    } else if (!col.ragged) {
      f.write(reinterpret_cast<const char*>(col.ids.data()), static_cast<std::streamsize>(col.ids.size() * 4));
    } else {
      std::vector<int32_t> padded(static_cast<size_t>(rows * width), 0);
      for (int64_t r = 0; r < rows; ++r)
        std::copy(col.ids.begin() + col.offsets[r], col.ids.begin() + col.offsets[r + 1], padded.begin() + r * width);
      f.write(reinterpret_cast<const char*>(padded.data()), static_cast<std::streamsize>(padded.size() * 4));
    }
    if (!f) throw RuntimeFailure("bench: cannot write " + file);
    meta.push_back(Json()
                       .str("table", table)
                       .str("input", name)
                       .str("dtype", col.dtype == DType::f32 ? "f32" : "i32")
                       .num("rows", static_cast<double>(rows))
                       .num("width", static_cast<double>(width))
                       .text());
  }
}

// The data and model sizes the PyTorch reference needs to build the same model on the same data.
void export_reference_data(Model& m, const DataTables& data, const FitOptions& o, const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto& task = dynamic_cast<RetrievalTask&>(m.task());
  std::vector<std::string> arrays;
  export_table(m, m.encode(data.train, {task.loss()}), "train", dir, arrays);
  export_table(m, m.encode(data.test, {task.query_node()}), "test", dir, arrays);
  export_table(m, m.encode(data.candidates, {task.candidate_node()}), "candidates", dir, arrays);
  // Test truth: the row of each test example's movie in the candidate table.
  const IntColumn& cand = data.candidates.ints(task.candidate_id_column());
  std::map<int64_t, int32_t> row_of;
  for (size_t i = 0; i < cand.size(); ++i) row_of.emplace(cand[i], static_cast<int32_t>(i));
  std::vector<int32_t> truth;
  for (int64_t id : data.test.ints(task.candidate_id_column())) truth.push_back(row_of.at(id));
  std::ofstream(dir + "/test.truth.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(truth.data()), static_cast<std::streamsize>(truth.size() * 4));
  std::vector<std::string> params;
  Graph& g = m.graph();
  for (int id : g.params())
    params.push_back(Json()
                         .str("name", g.node(id).name)
                         .nums("shape", {static_cast<double>(g.node(id).type.shape[0]),
                                         g.node(id).type.shape.size() > 1 ? static_cast<double>(g.node(id).type.shape[1]) : 1.0})
                         .text());
  std::ofstream(dir + "/meta.json") << Json()
                                           .num("batch_size", static_cast<double>(o.batch_size))
                                           .num("learning_rate", OptimizerRegistry::instance().make(o.optimizer, o.optimizer_options)->learning_rate())
                                           .num("seed", static_cast<double>(o.seed))
                                           .raw("arrays", json_array(arrays))
                                           .raw("params", json_array(params))
                                           .text()
                                    << "\n";
}

}  // namespace

std::string run_one(const RunRequest& r) {
  const Peak peak = sgemm_peak(r.peak_n, r.peak_repeats);

  RunSpec spec;
  spec.model_path = r.experiments_dir + "/towers_" + r.config + ".yaml";
  spec.train_path = r.experiments_dir + "/train.yaml";
  spec.data_dir = r.data_dir;
  spec.out_dir = r.out_dir;
  spec.overrides = {"fit.epochs=" + std::to_string(r.warmup_epochs + r.timed_epochs), "fit.validate_every=0",
                    "fit.checkpoint_every=0"};
  spec.overrides.insert(spec.overrides.end(), r.sets.begin(), r.sets.end());
  const auto t_load = Clock::now();
  RunSetup s = r.synthetic ? [&] {
    std::vector<std::string> model_over, train_over;
    for (const auto& o : spec.overrides)
      (o.rfind("model.", 0) == 0 ? model_over : train_over).push_back(o.rfind("model.", 0) == 0 ? o.substr(6) : o);
    ConfigNode train_cfg = load_config(spec.train_path, train_over);
    FitOptions options = FitOptions::from_config(train_cfg.at("fit"));
    return RunSetup{load_config(spec.model_path, model_over), train_cfg, synthetic_movielens(r.synth), options, r.out_dir};
  }() : prepare_run(spec);
  s.options.progress = "none";
  const double load_s = since(t_load);

  auto model = Model::build(s.model_cfg, &s.data, nullptr, s.options.seed);
  Graph& g = model->graph();
  Profile prof;
  g.attach_profile(&prof);
  std::ostringstream log;
  FitResult fr = fit(*model, s.data, s.options, r.out_dir, nullptr, log);
  g.attach_profile(nullptr);

  std::vector<double> timed(fr.epoch_seconds.begin() + std::min<size_t>(r.warmup_epochs, fr.epoch_seconds.size()),
                            fr.epoch_seconds.end());
  const double epoch_s = median(timed);
  const int64_t n_train = static_cast<int64_t>(s.data.train.rows());

  // FLOPs per epoch: full batches and the last partial one, each counted op by op.
  const EncodedTable enc = model->encode(s.data.train, {model->task().loss()});
  const int64_t b = s.options.batch_size, full = n_train / b, rest = n_train % b;
  const double step_full = step_flops(*model, enc, s.data.train, std::min(b, n_train));
  const double epoch_flops = static_cast<double>(full) * step_full + (rest ? step_flops(*model, enc, s.data.train, rest) : 0.0);

  // Evaluation: FactorizedTopK (towers' forward over the test rows and candidates, scoring, ranks)
  // and the whole Task::evaluate (adds the test loss), after a warm-up call each.
  auto& task = dynamic_cast<RetrievalTask&>(model->task());
  std::vector<double> topk_s, all_s;
  Metrics topk;
  // Interleaved, so that a shared machine's changing load falls on both alike; the first of each
  // is a warm-up.
  for (int i = 0; i <= r.eval_repeats; ++i) {
    auto t0 = Clock::now();
    topk = task.evaluate_top_k(*model, s.data.test, s.data);
    if (i) topk_s.push_back(since(t0));
    if (!r.full_evaluate) continue;
    t0 = Clock::now();
    evaluate(*model, s.data.test, s.data, s.options.batch_size);
    if (i) all_s.push_back(since(t0));
  }
  if (!r.export_dir.empty()) export_reference_data(*model, s.data, s.options, r.export_dir);

  Json accuracy;
  for (const auto& [k, v] : topk) accuracy.num(k, v);
  Json final_metrics;
  for (const auto& [k, v] : fr.final_metrics) final_metrics.num(k, v);

  const double floor_s = epoch_flops / (peak.median_gflops * 1e9);
  return Json()
      .str("config", r.config)
      .str("data", r.synthetic ? "synthetic" : "movielens")
      .num("example_scale", r.synthetic ? r.synth.example_scale : 1)
      .num("candidate_scale", r.synthetic ? r.synth.candidate_scale : 1)
      .num("threads", num_threads())
      .num("train_examples", static_cast<double>(n_train))
      .num("test_queries", static_cast<double>(s.data.test.rows()))
      .num("candidates", static_cast<double>(s.data.candidates.rows()))
      .num("batch_size", static_cast<double>(b))
      .num("params", static_cast<double>(g.param_count()))
      .num("load_s", load_s)
      .nums("epoch_seconds", fr.epoch_seconds)
      .num("epoch_s", epoch_s)
      .num("epoch_s_min", timed.empty() ? 0 : *std::min_element(timed.begin(), timed.end()))
      .num("examples_per_s", static_cast<double>(n_train) / epoch_s)
      .num("step_gflop", step_full * 1e-9)
      .num("epoch_gflop", epoch_flops * 1e-9)
      .num("peak_gflops", peak.median_gflops)
      .num("peak_gflops_best", peak.best_gflops)
      .num("peak_n", static_cast<double>(peak.n))
      .num("floor_s", floor_s)
      .num("x_floor", epoch_s / floor_s)
      .num("eval_topk_ms", 1e3 * median(topk_s))
      .num("eval_topk_ms_min", topk_s.empty() ? 0 : 1e3 * *std::min_element(topk_s.begin(), topk_s.end()))
      .num("eval_all_ms", r.full_evaluate ? 1e3 * median(all_s) : 0)
      .raw("top_k", accuracy.text())
      .raw("final_metrics", final_metrics.text())
      .num("peak_rss_mb", peak_rss_mb())
      .raw("profile", profile_json(g, prof))
      .text();
}

}  // namespace dagrad::bench
