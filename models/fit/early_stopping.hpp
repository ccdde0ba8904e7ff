// EarlyStopping: stops training once the metric (a key of the evaluation row, e.g. test_loss)
// has not improved by more than min_delta for `patience` evaluations. Its state (the best value,
// the evaluations without improvement) is saved in checkpoints, so a resumed run stops where an
// uninterrupted one would. Off when FitOptions::early_stopping_metric is empty; its state is then
// saved all the same, so that a checkpoint's entries do not depend on the options.
#pragma once
#include <string>

#include "models/fit/callback.hpp"

namespace dagrad {

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const FitOptions& o);
  // UserError when the metric is not in the evaluation row.
  void on_epoch_end(FitState& s, const Row& row) override;
  void save(ArchiveWriter& w) const override;  // fit/best, fit/bad_evals
  void load(const ArchiveReader& r) override;

  double best() const { return best_; }
  int64_t bad_evals() const { return bad_evals_; }

 private:
  std::string metric_;
  int64_t patience_;
  bool maximize_;
  double min_delta_;
  double best_;
  int64_t bad_evals_ = 0;
};

}  // namespace dagrad
