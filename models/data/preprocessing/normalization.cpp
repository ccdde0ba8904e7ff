#include "models/data/preprocessing/normalization.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/data/preprocessing/common.hpp"

namespace dagrad::preprocessing {

namespace {

std::vector<float> stddev_of(const std::vector<float>& variance) {
  std::vector<float> s(variance.size());
  for (size_t i = 0; i < variance.size(); ++i) s[i] = std::max(std::sqrt(variance[i]), Normalization::kEpsilon);
  return s;
}

}  // namespace

Normalization::Normalization(int64_t num_features) {
  if (num_features < 1)
    throw UserError("Normalization: num_features must be >= 1, got " + std::to_string(num_features));
  mean_.assign(static_cast<size_t>(num_features), 0.0f);
  variance_.assign(static_cast<size_t>(num_features), 1.0f);
  stddev_ = stddev_of(variance_);
}

Normalization::Normalization(std::vector<float> mean, std::vector<float> variance) {
  if (mean.empty() || mean.size() != variance.size())
    throw UserError("Normalization: need one mean and one variance per feature, got " + std::to_string(mean.size()) +
                    " means and " + std::to_string(variance.size()) + " variances");
  for (size_t i = 0; i < mean.size(); ++i) {
    if (!std::isfinite(mean[i]))
      throw UserError("Normalization: mean " + std::to_string(i) + " is " + num_str(mean[i]));
    if (!std::isfinite(variance[i]) || variance[i] < 0)
      throw UserError("Normalization: variance " + std::to_string(i) + " is " + num_str(variance[i]) +
                      "; a variance must be finite and >= 0");
  }
  mean_ = std::move(mean);
  variance_ = std::move(variance);
  stddev_ = stddev_of(variance_);
}

template <typename T>
void Normalization::adapt_values(std::span<const T> values, int64_t num_features) {
  if (num_features < 1)
    throw UserError("Normalization: num_features must be >= 1, got " + std::to_string(num_features));
  const size_t f = static_cast<size_t>(num_features);
  if (values.empty() || values.size() % f != 0)
    throw UserError("Normalization: adapt needs whole rows of " + std::to_string(f) + " features, got " +
                    std::to_string(values.size()) + " values");
  const size_t rows = values.size() / f;
  // Two passes in double: the mean, then the mean squared deviation (population variance).
  std::vector<double> sum(f, 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    const float x = static_cast<float>(values[i]);
    if (!std::isfinite(x)) throw UserError("Normalization: adapt value " + std::to_string(i) + " is " + num_str(x));
    sum[i % f] += x;
  }
  std::vector<double> mean(f);
  for (size_t j = 0; j < f; ++j) mean[j] = sum[j] / static_cast<double>(rows);
  std::vector<double> sq(f, 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    const double d = static_cast<double>(static_cast<float>(values[i])) - mean[i % f];
    sq[i % f] += d * d;
  }
  mean_.resize(f);
  variance_.resize(f);
  for (size_t j = 0; j < f; ++j) {
    mean_[j] = static_cast<float>(mean[j]);
    variance_[j] = static_cast<float>(sq[j] / static_cast<double>(rows));
  }
  stddev_ = stddev_of(variance_);
}

void Normalization::adapt(std::span<const float> values, int64_t num_features) { adapt_values(values, num_features); }
void Normalization::adapt(std::span<const int64_t> values, int64_t num_features) { adapt_values(values, num_features); }

template <typename T>
void Normalization::transform_values(std::span<const T> values, Tensor& out) const {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t f = num_features();
  if (n % f != 0)
    throw UserError("Normalization: " + std::to_string(n) + " values are not whole rows of " + std::to_string(f) +
                    " features");
  check_output(out, DType::f32, n, "Normalization");
  float* y = out.f32();
  const float* mean = mean_.data();
  const float* sd = stddev_.data();
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) y[i] = (static_cast<float>(values[i]) - mean[i % f]) / sd[i % f];
}

void Normalization::transform(std::span<const float> values, Tensor& out) const { transform_values(values, out); }
void Normalization::transform(std::span<const int64_t> values, Tensor& out) const { transform_values(values, out); }

Tensor Normalization::transform(std::span<const float> values) const {
  Tensor out({static_cast<int64_t>(values.size()) / num_features(), num_features()}, DType::f32);
  transform(values, out);
  return out;
}

Tensor Normalization::transform(std::span<const int64_t> values) const {
  Tensor out({static_cast<int64_t>(values.size()) / num_features(), num_features()}, DType::f32);
  transform(values, out);
  return out;
}

}  // namespace dagrad::preprocessing
