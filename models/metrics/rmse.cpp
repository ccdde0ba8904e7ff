#include "models/metrics/rmse.hpp"
#include "models/metrics/metric.hpp"

#include <cmath>
#include <string>

#include "graph/error.hpp"

namespace dagrad::metrics {

void Rmse::reset() {
  sum_squared_ = 0.0;
  count_ = 0;
}

void Rmse::update(const Tensor& predictions, const Tensor& targets) {
  if (!predictions.defined() || !targets.defined() || predictions.dtype() != DType::f32 ||
      targets.dtype() != DType::f32 || predictions.shape() != targets.shape())
    throw UserError("Rmse: predictions and targets must be f32 tensors of one shape, got " +
                    (predictions.defined() ? std::string(dtype_name(predictions.dtype())) + " " +
                                                 shape_str(predictions.shape())
                                           : std::string("undefined")) +
                    " and " +
                    (targets.defined() ? std::string(dtype_name(targets.dtype())) + " " + shape_str(targets.shape())
                                       : std::string("undefined")));
  const float* p = predictions.f32();
  const float* t = targets.f32();
  double sum = 0.0;
  for (int64_t i = 0, n = predictions.size(); i < n; ++i) {
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    sum += d * d;
  }
  sum_squared_ += sum;
  count_ += predictions.size();
}

double Rmse::result() const {
  if (count_ == 0) throw UserError("Rmse: no predictions seen since reset(); RMSE of nothing is undefined");
  return std::sqrt(sum_squared_ / static_cast<double>(count_));
}

}  // namespace dagrad::metrics

namespace dagrad::metrics {
DAGRAD_REGISTER_METRIC(Rmse, "rmse", "root mean squared error of the prediction against the label");
}  // namespace dagrad::metrics
