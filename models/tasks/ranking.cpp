// Ranking: a prediction per example against a label column — regression with mean squared error
// (metric RMSE) or binary classification with sigmoid cross-entropy on logits (metric AUC). The
// loss is the mean over the batch (Keras's default reduction).
#include "models/metrics/auc.hpp"
#include "models/metrics/mean_loss.hpp"
#include "models/metrics/rmse.hpp"
#include "models/model.hpp"

namespace dagrad {
namespace {

class Ranking : public Task {
 public:
  explicit Ranking(LayerContext& ctx) {
    const ConfigNode& cfg = ctx.cfg;
    cfg.check_keys({"type", "prediction", "label", "loss"});
    prediction_ = ctx.input("prediction");
    label_col_ = cfg.require_string("label");
    kind_ = cfg.get_enum("loss", {"mean_squared_error", "binary_crossentropy"}, "mean_squared_error");
    const Shape& s = ctx.graph.node(prediction_).type.shape;
    if (s.size() != 2 || s[1] != 1) cfg.at("prediction").fail("a ranking prediction must be [batch, 1], got " + shape_str(s));
    label_ = ctx.graph.input("task/label", {{kBatch, 1}, DType::f32});
    int per_row = ctx.add(kind_ == "mean_squared_error" ? "MeanSquaredError" : "SigmoidCrossEntropy",
                          {prediction_, label_}, {}, kind_);
    loss_ = ctx.add("ReduceMean", {per_row}, {}, "loss");
  }

  int loss() const override { return loss_; }
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
    metrics::Rmse rmse;
    metrics::Auc auc;
    for_each_batch(static_cast<int64_t>(eval.rows()), batch_size, [&](std::span<const int64_t> rows) {
      m.feeder().feed(m.graph(), enc, rows);
      prepare_batch(m.graph(), eval, rows, false);
      m.graph().forward(std::span<const int>(&loss_, 1));
      mean.update(m.graph().value(loss_).f32()[0], static_cast<int64_t>(rows.size()));
      const Tensor& pred = m.graph().value(prediction_);
      const Tensor& label = m.graph().value(label_);
      if (kind_ == "mean_squared_error") rmse.update(pred, label);
      else auc.update(pred, label);  // AUC is rank-based: logits rank as their probabilities do
    });
    out.push_back({"loss", mean.result()});
    if (kind_ == "mean_squared_error") out.push_back({"rmse", rmse.result()});
    else out.push_back({"auc", auc.result()});
    return out;
  }

  std::string describe() const override { return "Ranking (" + kind_ + " against column " + label_col_ + ")"; }

 private:
  int prediction_ = -1, label_ = -1, loss_ = -1;
  std::string label_col_, kind_;
  Tensor buf_;
};

std::unique_ptr<Task> build_ranking(LayerContext& ctx) { return std::make_unique<Ranking>(ctx); }

}  // namespace

DAGRAD_REGISTER_TASK(build_ranking, "Ranking", "per-example prediction against a label column (prediction, label, loss)");

}  // namespace dagrad
