#include "models/metrics/auc.hpp"
#include "models/metrics/metric.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "graph/error.hpp"

namespace dagrad::metrics {
namespace {

std::string auc_input(const Tensor& t) {
  if (!t.defined()) return "undefined";
  return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

}  // namespace

void Auc::reset() { pairs_.clear(); }

void Auc::update(const Tensor& scores, const Tensor& labels) {
  if (!scores.defined() || !labels.defined() || scores.dtype() != DType::f32 ||
      scores.shape() != labels.shape())
    throw UserError("Auc: scores must be f32 and labels of the same shape, got scores " + auc_input(scores) +
                    " and labels " + auc_input(labels));
  const int64_t n = scores.size();
  const float* s = scores.f32();
  const float* lf = labels.dtype() == DType::f32 ? labels.f32() : nullptr;
  const int32_t* li = labels.dtype() == DType::i32 ? labels.i32() : nullptr;
  const size_t old_size = pairs_.size();
  pairs_.reserve(old_size + static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double label = lf ? static_cast<double>(lf[i]) : static_cast<double>(li[i]);
    if (label != 0.0 && label != 1.0) {
      pairs_.resize(old_size);  // an update is all or nothing
      throw UserError("Auc: labels[" + std::to_string(i) + "] = " + std::to_string(label) +
                      "; labels must be 0 or 1");
    }
    if (std::isnan(s[i])) {
      pairs_.resize(old_size);
      throw RuntimeFailure("Auc: scores[" + std::to_string(i) + "] is NaN and cannot be ranked");
    }
    pairs_.push_back({s[i], label == 1.0 ? 1 : 0});
  }
}

double Auc::result() const {
  std::vector<Pair> sorted = pairs_;
  std::sort(sorted.begin(), sorted.end(), [](const Pair& a, const Pair& b) { return a.score < b.score; });
  // Walk groups of equal score from the lowest up. Each positive beats every negative below its
  // group and ties with each negative inside it (one half). Counted in halves, exactly, as
  // 2 * wins + ties.
  int64_t negatives_below = 0, positives = 0;
  int64_t twice_wins = 0;
  for (size_t g = 0; g < sorted.size();) {
    size_t h = g;
    int64_t p = 0, n = 0;
    for (; h < sorted.size() && sorted[h].score == sorted[g].score; ++h) (sorted[h].label ? p : n) += 1;
    twice_wins += 2 * p * negatives_below + p * n;
    negatives_below += n;
    positives += p;
    g = h;
  }
  const int64_t negatives = negatives_below;
  if (positives == 0 || negatives == 0)
    throw UserError("Auc: needs both classes, saw " + std::to_string(positives) + " positive and " +
                    std::to_string(negatives) + " negative labels since reset()");
  return static_cast<double>(twice_wins) / (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

}  // namespace dagrad::metrics

namespace dagrad::metrics {
DAGRAD_REGISTER_METRIC(Auc, "auc", "exact area under the ROC curve of the prediction (a score or logit) against 0/1 labels");
}  // namespace dagrad::metrics
