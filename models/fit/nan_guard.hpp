// NanGuard: stops training at the first non-finite loss, before it reaches the parameters, naming
// the step and the first node that holds a non-finite value; and the check that keeps non-finite
// parameters out of checkpoints and model.dagrad. Either way the last good checkpoint is kept.
#pragma once
#include "models/fit/callback.hpp"

namespace dagrad {

class NanGuard : public Callback {
 public:
  // RuntimeFailure when `loss` is NaN or infinite.
  void on_loss(FitState& s, double loss) override;
};

// RuntimeFailure naming the first non-finite parameter, if any. Called before every write of the
// model (a checkpoint, model.dagrad).
void check_finite_parameters(const FitState& s);

}  // namespace dagrad
