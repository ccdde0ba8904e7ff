#include "models/metrics/mean_loss.hpp"

#include <string>

#include "graph/error.hpp"

namespace dagrad::metrics {

void MeanLoss::reset() {
  weighted_sum_ = 0.0;
  examples_ = 0;
}

void MeanLoss::update(double loss, int64_t examples) {
  if (examples < 0)
    throw UserError("MeanLoss: a batch of " + std::to_string(examples) + " examples; the count must be >= 0");
  if (examples == 0) return;  // an empty batch carries no weight, whatever its loss reads
  weighted_sum_ += loss * static_cast<double>(examples);
  examples_ += examples;
}

double MeanLoss::result() const {
  if (examples_ == 0) throw UserError("MeanLoss: no examples seen since reset(); the mean of nothing is undefined");
  return weighted_sum_ / static_cast<double>(examples_);
}

}  // namespace dagrad::metrics
