// StopSignals: SIGINT (Ctrl-C) and SIGTERM (a scheduler) ask training to stop before the next
// batch, so that Checkpoints writes a checkpoint and the command exits 130 or 143. The handlers
// are installed when training begins and the previous ones restored when this object goes.
#pragma once
#include "models/fit/callback.hpp"

namespace dagrad {

class StopSignals : public Callback {
 public:
  StopSignals() = default;
  ~StopSignals() override;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  void on_train_begin(FitState& s) override;
  void on_batch_begin(FitState& s) override;

 private:
  bool installed_ = false;
  void (*old_int_)(int) = nullptr;
  void (*old_term_)(int) = nullptr;
};

}  // namespace dagrad
