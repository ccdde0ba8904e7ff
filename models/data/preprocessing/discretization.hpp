// Discretization: numbers -> bucket ids, as Keras's Discretization(bin_boundaries=...) with
// output_mode="int", i.e. TensorFlow's Bucketize op with float32 boundaries.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/error.hpp"
#include "graph/tensor.hpp"

namespace dagrad::preprocessing {

class Discretization {
 public:
  // No boundaries: one bucket, every value maps to 0.
  Discretization() = default;
  // Rebuilds the layer from its state. Boundaries must be strictly increasing (no NaN); otherwise
  // UserError naming the first offending index.
  explicit Discretization(std::vector<float> boundaries);

  // Replaces the boundaries with numpy's linspace(min(values), max(values), num_boundaries)
  // computed in double and then cast to float32 (what the TFRS example passes as bin_boundaries).
  // UserError if values is empty or not finite, num_boundaries < 0, or the float32 boundaries are
  // not strictly increasing (the range is too narrow for num_boundaries distinct float32 values).
  void adapt_linspace(std::span<const float> values, int64_t num_boundaries);
  void adapt_linspace(std::span<const int64_t> values, int64_t num_boundaries);

  // State.
  const std::vector<float>& boundaries() const { return boundaries_; }
  // N boundaries give N + 1 buckets.
  int64_t num_buckets() const { return static_cast<int64_t>(boundaries_.size()) + 1; }

  // The number of boundaries <= x: a value equal to a boundary goes to the upper bucket. NaN goes
  // to the last bucket (Bucketize's upper_bound). Integers are converted to float32 first, as
  // Bucketize does against float boundaries, so large ones (timestamps ~8.8e8) round to a multiple
  // of 64 before the comparison.
  int32_t bucket(float x) const;
  int32_t bucket(int64_t x) const { return bucket(static_cast<float>(x)); }

  // Writes one bucket id per value into out (i32, any shape with values.size() elements).
  void transform(std::span<const float> values, Tensor& out) const;
  void transform(std::span<const int64_t> values, Tensor& out) const;
  // The bucket ids as a new i32 tensor of shape [values.size()].
  Tensor transform(std::span<const float> values) const;
  Tensor transform(std::span<const int64_t> values) const;

 private:
  void adapt_range(double lo, double hi, int64_t num_boundaries);

  std::vector<float> boundaries_;
};

}  // namespace dagrad::preprocessing
