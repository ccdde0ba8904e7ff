#include "models/fit/fit_probe.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "models/io/archive.hpp"
#include "models/model_test_util.hpp"

namespace dagrad::test {
namespace {

// Mean squared error of a [B, 1] prediction against column y; evaluate() reports "score".
class FitProbe : public Task {
 public:
  explicit FitProbe(LayerContext& ctx) {
    prediction_ = ctx.input("prediction");
    label_ = ctx.graph.input("task/label", {{kBatch, 1}, DType::f32});
    int per_row = ctx.add("MeanSquaredError", {prediction_, label_}, {}, "mse");
    loss_ = ctx.add("ReduceMean", {per_row}, {}, "loss");
  }
  int loss() const override { return loss_; }
  std::vector<std::string> columns() const override { return {"y"}; }
  void prepare_batch(Graph& g, const Table& t, std::span<const int64_t> rows, bool training) override {
    ProbeLog& p = probe();
    if (training) p.batches.emplace_back(rows.begin(), rows.end());
    const int64_t batch = static_cast<int64_t>(p.batches.size());
    Tensor y({static_cast<int64_t>(rows.size()), 1});
    for (size_t i = 0; i < rows.size(); ++i) y.f32()[i] = t.floats("y")[rows[i]];
    if (training && batch == p.nan_at_batch) y.f32()[0] = NAN;
    g.set_input(label_, y);
    if (training && p.at_batch) p.at_batch(batch);
  }
  Metrics evaluate(Model&, const Table&, const DataTables&, int64_t) override {
    ProbeLog& p = probe();
    const std::string ck = p.out_dir + "/checkpoint.dagrad";
    p.checkpoint_epoch.push_back(std::filesystem::exists(ck) ? ArchiveReader(ck).integer("fit/epoch") : -1);
    double v = p.evals < p.script.size() ? p.script[p.evals] : 0.0;
    ++p.evals;
    return {{"score", v}};
  }
  std::string describe() const override { return "FitProbe"; }

 private:
  int prediction_ = -1, label_ = -1, loss_ = -1;
};

std::unique_ptr<Task> build_probe(LayerContext& ctx) { return std::make_unique<FitProbe>(ctx); }
Schema probe_keys() { return {Key::value("prediction", "a [batch, 1] prediction").required()}; }
DAGRAD_REGISTER_TASK(build_probe, "FitProbe", "test probe: records batches and checkpoints", probe_keys);

const char* kProbeModel = "name: probe\n"
                     "inputs: {x: float}\n"
                     "layers:\n"
                     "  pred: {type: Dense, input: x, units: 1}\n"
                     "task: {type: FitProbe, prediction: pred}\n";

// Ten training rows (x = 0..9, y = 2x) and two test rows.
DataTables ten_rows() {
  Table t("interactions");
  FloatColumn x(10), y(10);
  for (int i = 0; i < 10; ++i) x[i] = static_cast<float>(i), y[i] = 2.0f * static_cast<float>(i);
  t.add("x", x);
  t.add("y", y);
  DataTables d;
  d.interactions = t;
  d.train = t.slice(0, 10, "train");
  d.test = t.slice(0, 2, "test");
  return d;
}

}  // namespace

ProbeLog& probe() {
  static ProbeLog p;
  return p;
}

ProbeRun run_probe(const FitOptions& o, const std::string& out_dir, std::vector<double> script, bool resume,
                   std::function<void(ProbeLog&)> setup) {
  ProbeLog& p = probe();
  p = ProbeLog{};
  p.script = std::move(script);
  p.out_dir = out_dir;
  if (setup) setup(p);
  static const DataTables data = ten_rows();  // outlives the models built over it
  std::unique_ptr<ArchiveReader> from;
  if (resume) from = std::make_unique<ArchiveReader>(out_dir + "/checkpoint.dagrad");
  ProbeRun r;
  r.model = Model::build(parse_config(kProbeModel, "model.yaml"), &data, from.get(), o.seed);
  std::ostringstream log;
  r.result = fit(*r.model, data, o, out_dir, from.get(), log);
  r.log = log.str();
  return r;
}

FitOptions probe_options(int64_t epochs) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 4;
  o.seed = 11;
  o.progress = "none";
  o.optimizer = "SGD";
  o.optimizer_options.set("learning_rate", 0.001);
  return o;
}

void check_same_parameters(const std::string& a_path, const std::string& b_path) {
  ArchiveReader a(a_path), b(b_path);
  int params = 0;
  for (const auto& name : a.names()) {
    if (name.rfind("param/", 0) != 0) continue;
    ++params;
    Tensor x = a.tensor(name), y = b.tensor(name);
    REQUIRE(x.shape() == y.shape());
    CHECK_MESSAGE(std::memcmp(x.f32(), y.f32(), static_cast<size_t>(x.size()) * 4) == 0, name);
  }
  CHECK(params > 0);
}

std::vector<Row> rows_but_seconds(const History& h) {
  std::vector<Row> out;
  for (Row r : h.rows()) {
    std::erase_if(r, [](const auto& kv) { return kv.first == "seconds"; });
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace dagrad::test
