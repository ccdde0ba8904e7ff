// Checkpoints: checkpoint.dagrad (the model, the optimizer, the loop's position, the history and
// the state of the callbacks given) every checkpoint_every epochs, once checkpoint_minutes have
// passed (mid-epoch if need be), after the last epoch or an early stop, and on interruption; and
// model.dagrad at the end. Each file is written atomically and never holds non-finite parameters,
// so a resumed run gives the same results as one that was never stopped.
#pragma once
#include <vector>

#include "models/fit/callback.hpp"

namespace dagrad {

class Checkpoints : public Callback {
 public:
  // `saved`: the callbacks whose state the checkpoints also hold (early stopping's).
  Checkpoints(const FitOptions& o, std::vector<Callback*> saved);
  // Continues checkpoint `r`: the optimizer's state, the position, the epoch's loss so far, the
  // time, the history and the saved callbacks' state (the model was built from it already).
  void restore(FitState& s, const ArchiveReader& r);

  void on_train_begin(FitState& s) override;
  void on_batch_end(FitState& s) override;
  void on_epoch_end(FitState& s, const Row& row) override;
  void on_train_end(FitState& s) override;

 private:
  // checkpoint_minutes have passed since the last checkpoint (on any rank of a distributed run:
  // every rank agrees, as writing a checkpoint is a collective step there).
  bool due(FitState& s) const;
  void write(FitState& s);

  int64_t every_;
  double seconds_;
  std::vector<Callback*> saved_;
  FitClock::time_point last_{};
};

}  // namespace dagrad
