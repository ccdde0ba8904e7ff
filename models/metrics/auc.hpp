// Auc: exact area under the ROC curve over every prediction since reset(), i.e. the Mann-Whitney
// statistic P(score of a positive > score of a negative), equal scores counting one half.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/tensor.hpp"

namespace dagrad::metrics {

class Auc {
 public:
  void reset();
  // scores: f32, any shape; labels: f32 or i32 of the same shape, every value 0 or 1.
  // Every pair is kept (8 bytes each) so that the result is exact, not binned.
  // A NaN score is a RuntimeFailure (it cannot be ranked); a label other than 0/1 a UserError.
  void update(const Tensor& scores, const Tensor& labels);
  // Sorts a copy of the pairs: O(n log n). UserError unless both classes have been seen.
  double result() const;

  int64_t count() const { return static_cast<int64_t>(pairs_.size()); }

 private:
  struct Pair {
    float score;
    int32_t label;
  };
  std::vector<Pair> pairs_;
};

}  // namespace dagrad::metrics
