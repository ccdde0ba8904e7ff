#include "models/fit/early_stopping.hpp"

#include <cmath>

namespace dagrad {

EarlyStopping::EarlyStopping(const FitOptions& o)
    : metric_(o.early_stopping_metric),
      patience_(o.patience),
      maximize_(o.maximize),
      min_delta_(o.min_delta),
      best_(o.maximize ? -INFINITY : INFINITY) {}

void EarlyStopping::on_epoch_end(FitState& s, const Row& row) {
  if (metric_.empty() || row.empty()) return;
  const double v = s.history.last(metric_);
  if (std::isnan(v)) {
    std::string have;
    for (const auto& [k, x] : row) have += (have.empty() ? "" : ", ") + k;
    throw UserError("early_stopping.metric '" + metric_ + "' is not reported (metrics: " + have + ")");
  }
  const bool improved = maximize_ ? v > best_ + min_delta_ : v < best_ - min_delta_;
  if (improved) {
    best_ = v;
    bad_evals_ = 0;
  } else if (++bad_evals_ >= patience_) {
    s.stop_early();
    s.say("early stopping: " + metric_ + " did not improve for " + std::to_string(bad_evals_) + " evaluations");
  }
}

void EarlyStopping::save(ArchiveWriter& w) const {
  w.put_double("fit/best", best_);
  w.put_int("fit/bad_evals", bad_evals_);
}

void EarlyStopping::load(const ArchiveReader& r) {
  best_ = r.number("fit/best");
  bad_evals_ = r.integer("fit/bad_evals");
}

}  // namespace dagrad
