// Normalization: numbers -> standardised float32, as Keras's Normalization (axis=-1): per feature,
// out = (x - mean) / max(sqrt(variance), 1e-7), computed in float32 like Keras.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"

namespace dagrad::preprocessing {

class Normalization {
 public:
  // Keras's backend.epsilon(): the floor on the standard deviation.
  static constexpr float kEpsilon = 1e-7f;

  // The identity over num_features features (mean 0, variance 1) until adapted.
  explicit Normalization(int64_t num_features = 1);
  // Rebuilds the layer from its state: one mean and one variance per feature. UserError if the
  // sizes differ or are 0, or a variance is negative or a value is not finite.
  Normalization(std::vector<float> mean, std::vector<float> variance);

  // Population mean and variance of each feature over values, read row-major as
  // [values.size() / num_features, num_features]. Each value is first converted to float32 (as Keras
  // casts its adapt data), then accumulated in double; the results are stored as float32, the
  // dtype of Keras's weights. UserError on no rows, a ragged last row or a non-finite value.
  void adapt(std::span<const float> values, int64_t num_features = 1);
  void adapt(std::span<const int64_t> values, int64_t num_features = 1);

  // State.
  const std::vector<float>& mean() const { return mean_; }
  const std::vector<float>& variance() const { return variance_; }
  int64_t num_features() const { return static_cast<int64_t>(mean_.size()); }

  // values is row-major [rows, num_features]; out is f32 with values.size() elements (any shape).
  // Integers are converted to float32 first.
  void transform(std::span<const float> values, Tensor& out) const;
  void transform(std::span<const int64_t> values, Tensor& out) const;
  // A new f32 tensor of shape [rows, num_features].
  Tensor transform(std::span<const float> values) const;
  Tensor transform(std::span<const int64_t> values) const;

 private:
  template <typename T>
  void adapt_values(std::span<const T> values, int64_t num_features);
  template <typename T>
  void transform_values(std::span<const T> values, Tensor& out) const;

  std::vector<float> mean_;
  std::vector<float> variance_;
  std::vector<float> stddev_;  // max(sqrt(variance), kEpsilon), derived from the state
};

}  // namespace dagrad::preprocessing
