// Rmse: root mean squared error over every element of every update since reset(), for rating
// regression. Accumulated in double, so the order of updates does not matter beyond rounding.
#pragma once
#include <cstdint>

#include "graph/tensor.hpp"

namespace dagrad::metrics {

class Rmse {
 public:
  void reset();
  // predictions and targets: f32 tensors of the same shape (any rank). NaNs propagate.
  void update(const Tensor& predictions, const Tensor& targets);
  // sqrt(sum of squared errors / elements); UserError when no element has been seen.
  double result() const;

  int64_t count() const { return count_; }

 private:
  double sum_squared_ = 0.0;
  int64_t count_ = 0;
};

}  // namespace dagrad::metrics
