// Progress: a bar on stderr while an epoch runs (examples per second, the epoch's loss, the time
// left), and one line per evaluation: the epoch, then every entry of the evaluation row (the
// training loss, each of the task's metrics on the evaluation table, the seconds so far), as
// Keras prints every metric: the same rule for every task. Mode "bar", "lines" (the lines into
// the log, no bar), "none", or "auto" (a bar when stderr is a terminal, else lines).
#pragma once
#include <iosfwd>
#include <string>

#include "models/fit/callback.hpp"

namespace dagrad {

class Progress : public Callback {
 public:
  Progress(const std::string& mode, std::ostream& log);
  void on_batch_end(FitState& s) override;
  void on_epoch_end(FitState& s, const Row& row) override;
  // A line above the bar, or in the log; nothing in mode "none".
  void line(const std::string& s);

  // "epoch 3/10  loss 0.25  test_loss 0.3  test_rmse 0.5  seconds 1.5": every entry of the
  // evaluation row `row` but its epoch, in the row's order.
  static std::string epoch_line(int64_t epoch, int64_t epochs, const Row& row);

 private:
  std::ostream& log_;
  bool bar_ = false, lines_ = false;
  FitClock::time_point last_{};
};

}  // namespace dagrad
