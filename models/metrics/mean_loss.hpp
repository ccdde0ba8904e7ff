// MeanLoss: the mean of per-batch losses weighted by each batch's example count, i.e. the mean
// per-example loss over an epoch when each batch reports its own mean loss.
#pragma once
#include <cstdint>

namespace dagrad::metrics {

class MeanLoss {
 public:
  void reset();
  // loss: the batch's mean loss; examples: how many examples it averaged (>= 0; 0 adds nothing).
  // A non-finite loss propagates into the result (a diverged run should show as such).
  void update(double loss, int64_t examples);
  // sum(loss_b * examples_b) / sum(examples_b); UserError when no example has been seen.
  double result() const;

  int64_t examples() const { return examples_; }

 private:
  double weighted_sum_ = 0.0;
  int64_t examples_ = 0;
};

}  // namespace dagrad::metrics
