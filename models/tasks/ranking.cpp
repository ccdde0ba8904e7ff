// Ranking: a prediction per example against a label column — regression with mean squared error
// (metric RMSE) or binary classification with sigmoid cross-entropy on logits (metric AUC). The
// loss is the mean over the batch (Keras's default reduction).
#include "models/metrics/mean_loss.hpp"
#include "models/metrics/metric.hpp"
#include "models/model.hpp"

namespace dagrad {
namespace {

class Ranking : public Task {
 public:
  static Schema keys() {
    return {Key::value("prediction", "the model's prediction, [batch, 1] (a logit for binary_crossentropy)").required(),
            Key::column("label", "the column holding the target (a rating; 0 or 1 for binary_crossentropy)").required(),
            Key::choice("loss", {"mean_squared_error", "binary_crossentropy"},
                        "the loss, averaged over the batch")
                .otherwise("mean_squared_error"),
            Key::strings("metrics", "registered metrics of the prediction against the label (`dagrad list`), besides "
                                    "the loss").otherwise_text("[rmse] for mean_squared_error, [auc] for binary_crossentropy")};
  }

  explicit Ranking(LayerContext& ctx) {
    const ConfigNode& cfg = ctx.cfg;
    prediction_ = ctx.input("prediction");
    label_col_ = ctx.keys.string("label");
    kind_ = ctx.keys.string("loss");
    std::vector<std::string> names = {kind_ == "mean_squared_error" ? "rmse" : "auc"};
    if (ctx.keys.has("metrics")) names = ctx.keys.strings("metrics");
    for (size_t i = 0; i < names.size(); ++i) {
      const MetricInfo* info = MetricRegistry::instance().find(names[i]);
      if (!info) ctx.keys.at("metrics").elements()[i].fail(MetricRegistry::instance().unknown(names[i]));
      metrics_.push_back({names[i], info});
    }
    const Shape& s = ctx.graph.node(prediction_).type.shape;
    if (s.size() != 2 || s[1] != 1) cfg.at("prediction").fail("a ranking prediction must be [batch, 1], got " + shape_str(s));
    label_ = ctx.graph.input(ctx.name + "/label", {{kBatch, 1}, DType::f32});
    int per_row = ctx.add(kind_ == "mean_squared_error" ? "MeanSquaredError" : "SigmoidCrossEntropy",
                          {prediction_, label_}, {}, kind_);
    loss_ = ctx.add("ReduceMean", {per_row}, {}, "loss");
  }

  int loss() const override { return loss_; }
  bool loss_is_batch_mean() const override { return true; }  // ReduceMean
  int prediction_node() const override { return prediction_; }
  std::vector<std::string> columns() const override { return {label_col_}; }

  void prepare_batch(Graph& g, const Table& t, std::span<const int64_t> rows, bool) override {
    const int64_t b = static_cast<int64_t>(rows.size());
    Tensor v = grown_view(buf_, {b, 1});
    const Column& c = t.column(label_col_);
    for (int64_t i = 0; i < b; ++i)
      v.f32()[i] = std::holds_alternative<FloatColumn>(c) ? std::get<FloatColumn>(c)[rows[i]]
                                                          : static_cast<float>(t.ints(label_col_)[rows[i]]);
    g.set_input(label_, v);
  }

  Metrics evaluate(Model& m, const Table& eval, const DataTables&, int64_t batch_size) override {
    Metrics out;
    if (eval.rows() == 0) return out;
    EncodedTable enc = m.encode(eval, {loss_});
    metrics::MeanLoss mean;
    std::vector<std::unique_ptr<Metric>> ms;
    for (const auto& [name, info] : metrics_) ms.push_back(info->make());
    for_each_batch(static_cast<int64_t>(eval.rows()), batch_size, [&](std::span<const int64_t> rows) {
      m.feeder().feed(m.graph(), enc, rows);
      prepare_batch(m.graph(), eval, rows, false);
      m.graph().forward(std::span<const int>(&loss_, 1));
      mean.update(m.graph().value(loss_).f32()[0], static_cast<int64_t>(rows.size()));
      const Tensor& pred = m.graph().value(prediction_);
      const Tensor& label = m.graph().value(label_);
      for (auto& metric : ms) metric->update(pred, label);  // AUC is rank-based: logits rank as probabilities do
    });
    out.push_back({"loss", mean.result()});
    for (size_t i = 0; i < ms.size(); ++i) out.push_back({metrics_[i].first, ms[i]->result()});
    return out;
  }

  std::string describe() const override { return "Ranking (" + kind_ + " against column " + label_col_ + ")"; }

 private:
  int prediction_ = -1, label_ = -1, loss_ = -1;
  std::string label_col_, kind_;
  std::vector<std::pair<std::string, const MetricInfo*>> metrics_;
  Tensor buf_;
};

std::unique_ptr<Task> build_ranking(LayerContext& ctx) { return std::make_unique<Ranking>(ctx); }

}  // namespace

DAGRAD_REGISTER_TASK(build_ranking, "Ranking", "a prediction per example against a label column: regression or binary classification",
                     Ranking::keys);

}  // namespace dagrad
